-- Idempotency-Key: the first outcome of a write, per user and key, kept for
-- a day (package idempotency). document_id is set by the documents
-- participant's commit, in the same local transaction as the change, so a
-- crash between the commit and recording the answer cannot make a retry
-- redo the write.

-- +goose Up
CREATE TABLE idempotency_keys (
  user_id     TEXT     NOT NULL,
  idem_key    TEXT     NOT NULL,
  request     TEXT     NOT NULL,
  state       TEXT     NOT NULL,
  lease_until DATETIME NOT NULL,
  document_id TEXT     NULL,
  status      INTEGER  NOT NULL,
  header      TEXT     NOT NULL,
  body        BLOB     NOT NULL,
  created_at  DATETIME NOT NULL,
  expires_at  DATETIME NOT NULL,
  PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX ix_idempotency_keys_expires ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
