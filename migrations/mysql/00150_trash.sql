-- The trash (issue 14): DELETE moves a document to its owner's trash
-- instead of removing it. A trashed document keeps its rows, versions,
-- search entry and blobs (and still counts against its department's quota)
-- until purge_at, when the purge job removes it through the three-phase
-- commit. Every read predicate requires deleted_at IS NULL; the Mroonga
-- entry's copy of the visibility says 'trashed' meanwhile, so that
-- Groonga's ranked search filters it out without a join.

-- +goose Up
ALTER TABLE documents
  ADD COLUMN deleted_at DATETIME(6) NULL,
  ADD COLUMN deleted_by VARCHAR(32) NULL,
  ADD COLUMN purge_at   DATETIME(6) NULL,
  ADD KEY ix_documents_purge (purge_at),
  ADD KEY ix_documents_trash_owner (owner_id, deleted_at);

-- +goose Down
ALTER TABLE documents
  DROP KEY ix_documents_trash_owner,
  DROP KEY ix_documents_purge,
  DROP COLUMN purge_at,
  DROP COLUMN deleted_by,
  DROP COLUMN deleted_at;
