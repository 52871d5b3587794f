package sqlstore

import (
	"time"

	"docplat/internal/envflag"
)

// Bind declares the document database's flags onto c.
func (c *Config) Bind(b *envflag.Set) {
	b.String(&c.DataDir, "data-dir", "./data", "blob store and embedded database directory, shared by all instances")
	b.String(&c.MySQLDSN, "mysql-dsn", "", "MariaDB/MySQL DSN, e.g. user:pass@tcp(127.0.0.1:3306)/docplat; empty runs the embedded SQLite mode")
	b.Int(&c.MaxOpenConns, "db-max-conns", 32, "MySQL connections this process may open, per database (2-10000); every instance's and the stats service's together must stay under the server's max_connections (past it a request waits for a connection instead of failing with \"Too many connections\")")
}

// BindReplicas declares the read replicas' flags onto c (the commands that
// serve; the tools read and write the primary only).
func (c *Config) BindReplicas(b *envflag.Set) {
	b.List(&c.ReplicaDSNs, "mysql-replica-dsns", "", ",", "MariaDB replicas of the primary (comma-separated DSNs, same database name), e.g. ro:pass@tcp(db2:3306)/docplat; searches, listings and document cache misses read from a healthy one, everything else from the primary; empty: none")
	b.Duration(&c.ReplicaMaxLag, "mysql-replica-max-lag", 2*time.Second, "a replica lagging the primary by more than this (heartbeat), or not answering, is skipped until it catches up (100ms-1h); a replica read is at most this plus a quarter of it (at most 500ms) old")
}
