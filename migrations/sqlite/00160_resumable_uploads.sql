-- Resumable (tus) uploads (package resumable): one row per upload, shared
-- by every instance. The bytes live in the tus store under the data
-- directory; this row says whose upload it is, what it becomes when it
-- finishes (a new document, or a new version of target_id at
-- if_match), until when it may be resumed, and how it ended.

-- +goose Up
CREATE TABLE resumable_uploads (
  id            TEXT    NOT NULL PRIMARY KEY,
  user_id       TEXT    NOT NULL,
  target_id     TEXT    NULL,
  if_match      TEXT    NOT NULL DEFAULT '',
  metadata      TEXT    NOT NULL,
  size          INTEGER NOT NULL,
  state         TEXT    NOT NULL,
  document_id   TEXT    NULL,
  error_status  INTEGER NOT NULL DEFAULT 0,
  error_body    TEXT    NOT NULL,
  created_at    DATETIME NOT NULL,
  expires_at    DATETIME NOT NULL,
  updated_at    DATETIME NOT NULL
);
CREATE INDEX ix_resumable_uploads_user ON resumable_uploads (user_id, state, expires_at);
CREATE INDEX ix_resumable_uploads_expiry ON resumable_uploads (expires_at);

-- +goose Down
DROP TABLE resumable_uploads;
