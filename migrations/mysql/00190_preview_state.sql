-- Page previews are made by "preview" jobs (docs' MakePreviews); the row
-- says where the current content's stand, so that a sweep can enqueue
-- the lost ones again (a publish lost between the commit and Kafka, an
-- image stored before previews existed) and a job whose retries ran out
-- ends failed rather than pending for ever.
--   preview_state    pending | done | failed | none (a type without pages)
--   preview_state_at when the state was last set, or the job last
--                    enqueued (the sweep's claim)
--   preview_error    why the job failed for good (preview_state = failed)
-- Rows from before: PDFs, Office files and images become pending and due
-- at once (preview_state_at NULL): the sweep enqueues them a batch at a
-- time, and a content whose previews exist finishes its job at once.

-- +goose Up
ALTER TABLE documents
  ADD COLUMN preview_state    VARCHAR(16)  NOT NULL DEFAULT 'none',
  ADD COLUMN preview_state_at DATETIME(6)  NULL,
  ADD COLUMN preview_error    VARCHAR(500) NOT NULL DEFAULT '',
  ADD KEY ix_documents_preview_state (preview_state, preview_state_at);
UPDATE documents SET preview_state = 'pending', preview_state_at = NULL
WHERE mime LIKE 'application/pdf%' OR mime LIKE 'image/png%' OR mime LIKE 'image/jpeg%'
  OR mime LIKE 'image/gif%' OR mime LIKE 'image/webp%'
  OR mime LIKE 'application/vnd.openxmlformats-officedocument.wordprocessingml.document%'
  OR mime LIKE 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet%'
  OR mime LIKE 'application/vnd.openxmlformats-officedocument.presentationml.presentation%'
  OR mime LIKE 'application/vnd.oasis.opendocument.%';

-- +goose Down
ALTER TABLE documents
  DROP KEY ix_documents_preview_state,
  DROP COLUMN preview_error,
  DROP COLUMN preview_state_at,
  DROP COLUMN preview_state;
