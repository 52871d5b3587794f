-- Resumable (tus) uploads (package resumable): one row per upload, shared
-- by every instance. The bytes live in the tus store under the data
-- directory; this row says whose upload it is, what it becomes when it
-- finishes (a new document, or a new version of target_id at
-- if_match), until when it may be resumed, and how it ended. The partial
-- index of unfinished uploads by user backs the per-user limit.

-- +goose Up
CREATE TABLE resumable_uploads (
  id            VARCHAR(64)  NOT NULL PRIMARY KEY,
  user_id       VARCHAR(32)  NOT NULL,
  target_id     VARCHAR(32)  NULL,
  if_match      VARCHAR(64)  NOT NULL DEFAULT '',
  metadata      TEXT         NOT NULL,
  size          BIGINT       NOT NULL,
  state         VARCHAR(16)  NOT NULL,
  document_id   VARCHAR(32)  NULL,
  error_status  INT          NOT NULL DEFAULT 0,
  error_body    TEXT         NOT NULL,
  created_at    DATETIME(6)  NOT NULL,
  expires_at    DATETIME(6)  NOT NULL,
  updated_at    DATETIME(6)  NOT NULL,
  KEY ix_resumable_uploads_user (user_id, state, expires_at),
  KEY ix_resumable_uploads_expiry (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE resumable_uploads;
