-- Scheduled publication (docs.Document.PublishAt) and the lecture a
-- document is handed out at (LectureAt): until publish_at only the
-- document's managers see it (docs/authority.go, sqlstore readable); the
-- pre-warmer (hotspot.Prewarmer) looks both up by time, hence the indexes.
--
-- The search index carries publish_at as whole Unix seconds (0: none), so
-- that Groonga filters a ranked search by it as by the other permission
-- columns (sqlstore/search_groonga.go); docs truncates publish_at to
-- seconds, so the two forms compare alike.

-- +goose Up
ALTER TABLE documents
  ADD COLUMN publish_at DATETIME(6) NULL,
  ADD COLUMN lecture_at DATETIME(6) NULL,
  ADD KEY ix_documents_publish_at (publish_at),
  ADD KEY ix_documents_lecture_at (lecture_at);

ALTER TABLE document_search
  ADD COLUMN publish_at BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE document_search
  DROP COLUMN publish_at;
ALTER TABLE documents
  DROP KEY ix_documents_lecture_at,
  DROP KEY ix_documents_publish_at,
  DROP COLUMN lecture_at,
  DROP COLUMN publish_at;
