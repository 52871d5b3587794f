-- The trash (issue 14): DELETE moves a document to its owner's trash
-- instead of removing it. A trashed document keeps its rows, versions,
-- search entry and blobs (and still counts against its department's quota)
-- until purge_at, when the purge job removes it through the three-phase
-- commit. Every read predicate requires deleted_at IS NULL (FTS5 searches
-- join documents, so its entry needs no change).

-- +goose Up
ALTER TABLE documents ADD COLUMN deleted_at DATETIME NULL;
ALTER TABLE documents ADD COLUMN deleted_by TEXT NULL;
ALTER TABLE documents ADD COLUMN purge_at DATETIME NULL;
CREATE INDEX ix_documents_purge ON documents (purge_at);
CREATE INDEX ix_documents_trash_owner ON documents (owner_id, deleted_at);

-- +goose Down
DROP INDEX ix_documents_trash_owner;
DROP INDEX ix_documents_purge;
ALTER TABLE documents DROP COLUMN purge_at;
ALTER TABLE documents DROP COLUMN deleted_by;
ALTER TABLE documents DROP COLUMN deleted_at;
