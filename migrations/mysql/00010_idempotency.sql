-- Idempotency-Key: the first outcome of a write, per user and key, kept for
-- a day (package idempotency). document_id is set by the documents
-- participant's commit, in the same local transaction as the change, so a
-- crash between the commit and recording the answer cannot make a retry
-- redo the write.

-- +goose Up
CREATE TABLE idempotency_keys (
  user_id     VARCHAR(40)  NOT NULL,
  idem_key    VARCHAR(128) NOT NULL,
  request     VARCHAR(512) NOT NULL,
  state       VARCHAR(16)  NOT NULL,
  lease_until DATETIME(6)  NOT NULL,
  document_id VARCHAR(40)  NULL,
  status      INT          NOT NULL,
  header      TEXT         NOT NULL,
  body        LONGBLOB     NOT NULL,
  created_at  DATETIME(6)  NOT NULL,
  expires_at  DATETIME(6)  NOT NULL,
  PRIMARY KEY (user_id, idem_key),
  KEY ix_idempotency_keys_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE idempotency_keys;
