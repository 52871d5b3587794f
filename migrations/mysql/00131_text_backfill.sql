-- Text extraction learned PDF, Office Open XML and OpenDocument files
-- (package extract). Documents of those types stored before were marked
-- none by 00130 (nothing could read them then): they become pending, and
-- the sweeper enqueues their extraction (text_state_at NULL is due at
-- once), a bounded batch at a time.

-- +goose Up
UPDATE documents SET text_state = 'pending', text_state_at = NULL, text_error = ''
WHERE text_state = 'none' AND (mime LIKE 'application/pdf%'
  OR mime LIKE 'application/vnd.openxmlformats-officedocument.%'
  OR mime LIKE 'application/vnd.oasis.opendocument.%');

-- +goose Down
UPDATE documents SET text_state = 'none', text_state_at = NULL
WHERE text_state = 'pending' AND (mime LIKE 'application/pdf%'
  OR mime LIKE 'application/vnd.openxmlformats-officedocument.%'
  OR mime LIKE 'application/vnd.oasis.opendocument.%');
