package sqlstore

import "docplat/internal/envflag"

// Bind declares the document database's flags onto c.
func (c *Config) Bind(b *envflag.Set) {
	b.String(&c.DataDir, "data-dir", "./data", "blob store and embedded database directory, shared by all instances")
	b.String(&c.MySQLDSN, "mysql-dsn", "", "MariaDB/MySQL DSN, e.g. user:pass@tcp(127.0.0.1:3306)/docplat; empty runs the embedded SQLite mode")
	b.Int(&c.MaxOpenConns, "db-max-conns", 32, "MySQL connections this process may open, per database (2-10000); every instance's and the stats service's together must stay under the server's max_connections (past it a request waits for a connection instead of failing with \"Too many connections\")")
}
