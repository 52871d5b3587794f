-- Scheduled publication (docs.Document.PublishAt) and the lecture a
-- document is handed out at (LectureAt): until publish_at only the
-- document's managers see it (docs/authority.go, sqlstore readable); the
-- pre-warmer (hotspot.Prewarmer) looks both up by time, hence the indexes.
-- FTS5 searches join documents, so the search index needs no copy.

-- +goose Up
ALTER TABLE documents ADD COLUMN publish_at DATETIME NULL;
ALTER TABLE documents ADD COLUMN lecture_at DATETIME NULL;
CREATE INDEX ix_documents_publish_at ON documents (publish_at);
CREATE INDEX ix_documents_lecture_at ON documents (lecture_at);

-- +goose Down
DROP INDEX ix_documents_lecture_at;
DROP INDEX ix_documents_publish_at;
ALTER TABLE documents DROP COLUMN lecture_at;
ALTER TABLE documents DROP COLUMN publish_at;
