package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"docplat/docs"
)

// dialect is what differs between MariaDB and SQLite below the stores.
type dialect interface {
	// lockRow makes a SELECT lock the rows it reads until the transaction
	// ends (SQLite transactions already hold the write lock from BEGIN).
	lockRow(tx *gorm.DB) *gorm.DB
	// forUpdate is the suffix that locks the rows of a raw SELECT.
	forUpdate() string
	// touchBlob inserts a blob row or refreshes its last use.
	touchBlob(tx *gorm.DB, sha string, size int64, at time.Time) error
	// insertIgnore inserts a blob row unless one exists.
	insertBlobIgnore(tx *gorm.DB, sha string, at time.Time) error
	search
}

// search is the full-text engine behind document search.
type search interface {
	// transactionalIndex reports whether index writes roll back with the
	// transaction they are made in.
	transactionalIndex() bool
	// index replaces the search entry of a document (inside its transaction).
	index(tx *gorm.DB, d docs.Document, text string, replaceBody bool) error
	// unindex removes the entry of a document about to be deleted.
	unindex(tx *gorm.DB, id string) error
	// markTrashed takes a trashed document's entry out of searches that do
	// not join documents (its restore re-indexes it with index, no body).
	markTrashed(tx *gorm.DB, id string) error
	// match returns a JOIN, a WHERE condition and a score expression (higher
	// is better) for the terms; args go with join then where then score.
	match(terms []string) (join, where string, args []any, score string, scoreArgs []any)
	// snippets returns, per document, a window of indexed text around the
	// first occurrence of term.
	snippets(ctx context.Context, db *gorm.DB, ids []string, term string, width int) (map[string]string, error)
	// purgeOrphans removes entries whose document is gone and that are older than cutoff.
	purgeOrphans(ctx context.Context, db *gorm.DB, cutoff time.Time) (int64, error)
}

type mysqlDialect struct{ mroonga }

func (mysqlDialect) lockRow(tx *gorm.DB) *gorm.DB {
	return tx.Clauses(clause.Locking{Strength: "UPDATE"})
}

func (mysqlDialect) touchBlob(tx *gorm.DB, sha string, size int64, at time.Time) error {
	return tx.Exec(`INSERT INTO blobs (sha256, size, created_at, last_used_at) VALUES (?, ?, ?, ?)
		ON DUPLICATE KEY UPDATE last_used_at = VALUES(last_used_at), size = VALUES(size)`, sha, size, at, at).Error
}

func (mysqlDialect) insertBlobIgnore(tx *gorm.DB, sha string, at time.Time) error {
	return tx.Exec(`INSERT IGNORE INTO blobs (sha256, size, created_at, last_used_at) VALUES (?, 0, ?, ?)`, sha, at, at).Error
}

func (mysqlDialect) forUpdate() string { return " FOR UPDATE" }

type sqliteDialect struct{ fts5 }

func (sqliteDialect) forUpdate() string { return "" }

func (sqliteDialect) lockRow(tx *gorm.DB) *gorm.DB { return tx }

func (sqliteDialect) touchBlob(tx *gorm.DB, sha string, size int64, at time.Time) error {
	return tx.Exec(`INSERT INTO blobs (sha256, size, created_at, last_used_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (sha256) DO UPDATE SET last_used_at = excluded.last_used_at, size = excluded.size`, sha, size, at, at).Error
}

func (sqliteDialect) insertBlobIgnore(tx *gorm.DB, sha string, at time.Time) error {
	return tx.Exec(`INSERT OR IGNORE INTO blobs (sha256, size, created_at, last_used_at) VALUES (?, 0, ?, ?)`, sha, at, at).Error
}
