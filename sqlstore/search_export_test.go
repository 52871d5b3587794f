package sqlstore

import (
	"context"
	"time"

	"docplat/docs"
)

// AnswerSearchesWithSQL makes db answer every search with the SQL form
// (MATCH ... AGAINST joined to documents), as before the Groonga path: the
// benchmark measures both in one run.
func AnswerSearchesWithSQL(db *DB) { db.sqlSearchOnly = true }

// PreparedSearchStatements is how many statements db keeps prepared for
// ranked searches.
func PreparedSearchStatements(db *DB) int {
	db.searchStmts.mu.Lock()
	defer db.searchStmts.mu.Unlock()
	return len(db.searchStmts.stmts)
}

// ListAt is List as of now (the read rule's clock), for the property test
// of publication times.
func (s *Documents) ListAt(ctx context.Context, actor docs.Actor, q docs.Query, now time.Time) ([]docs.Document, int64, error) {
	return s.listAt(ctx, actor, q, now)
}
