package sqlstore

import (
	"context"

	"gorm.io/gorm"

	"docplat/docs"
)

// SeedDocument writes d's rows (blob, document, first version, tags,
// search entry) straight into the database, without a file, the three-phase
// commit or the stats service: a fixture for tests that need many
// searchable rows fast (the 2,291-page corpus). Tests of writing use the
// real path (docs.WithThreePhaseCommit over DocsParticipant).
func SeedDocument(ctx context.Context, db *DB, d docs.Document, v docs.Version, text string) error {
	s := db.Documents()
	return s.g(ctx).Transaction(func(tx *gorm.DB) error {
		if err := db.dialect.touchBlob(tx, v.SHA256, v.Size, v.CreatedAt); err != nil {
			return err
		}
		return s.insertDocument(tx, d, v, text, docs.PreviewNone)
	})
}
