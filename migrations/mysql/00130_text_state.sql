-- Search text is extracted off the request path (package jobs, docs'
-- "extract" jobs): a document's row says where its text stands.
--   text_state    pending | ready | failed | none (a type with no text)
--   text_state_at when the state was last set, or the job last enqueued:
--                 the sweeper re-enqueues documents pending longer than a
--                 bound (a publish lost between the commit and Kafka)
--   text_error    why the extraction failed (text_state = failed)
-- Rows from before were indexed at upload: ready, or none for the types
-- docs indexed no text of then (anything but text/* and JSON).

-- +goose Up
ALTER TABLE documents
  ADD COLUMN text_state    VARCHAR(16)  NOT NULL DEFAULT 'ready',
  ADD COLUMN text_state_at DATETIME(6)  NULL,
  ADD COLUMN text_error    VARCHAR(500) NOT NULL DEFAULT '',
  ADD KEY ix_documents_text_state (text_state, text_state_at);
UPDATE documents SET text_state = 'none' WHERE mime NOT LIKE 'text/%' AND mime NOT LIKE 'application/json%';

-- +goose Down
ALTER TABLE documents
  DROP KEY ix_documents_text_state,
  DROP COLUMN text_error,
  DROP COLUMN text_state_at,
  DROP COLUMN text_state;
