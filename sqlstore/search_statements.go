package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// searchStatements keeps the ranked search's statements prepared. A query
// with arguments sent as is costs the driver a prepare, an execute and a
// close: three round trips, the statement parsed every time. Reused, it is
// one execute: about 0.1 ms less server CPU per statement, and less in the
// app (BenchmarkSearchCorpus). database/sql prepares a statement again on
// each connection that needs it, also after a reconnect.
type searchStatements struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// maxSearchStatements bounds the statements kept (each is prepared on up to
// every connection of the pool; MariaDB's max_prepared_stmt_count is
// server-wide). The texts are few: one Groonga call, and the page read by
// read-rule shape and padded id count.
const maxSearchStatements = 64

// stmt returns the prepared statement for query, preparing it on first
// use; nil (with no error) when the cache is full, for the caller to send
// query unprepared.
func (c *searchStatements) stmt(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, found := c.stmts[query]
	full := len(c.stmts) >= maxSearchStatements
	c.mu.Unlock()
	if found {
		return st, nil
	}
	if full {
		return nil, nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, raced := c.stmts[query]; raced {
		_ = st.Close()
		return prev, nil
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[query] = st
	return st, nil
}

// query runs query with args through its prepared statement.
func (c *searchStatements) query(ctx context.Context, db *sql.DB, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, db, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return db.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// idBuckets are the id counts a page read is padded to, so that a few
// prepared statements serve every page size.
var idBuckets = []int{1, 5, 10, 20, 50, 100}

// padIDs repeats the last id up to the next bucket (IN ignores the repeats).
func padIDs(ids []string) []string {
	for _, n := range idBuckets {
		if len(ids) <= n {
			for len(ids) < n {
				ids = append(ids, ids[len(ids)-1])
			}
			return ids
		}
	}
	return ids
}
