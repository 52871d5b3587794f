-- Where the audit log's download consumer (package audit) is in each
-- partition of the access topic: written in the same transaction as the
-- entries of the records before it, so a redelivered batch is recorded once.

-- +goose Up
CREATE TABLE audit_stream_positions (
  topic       TEXT    NOT NULL,
  part        INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  PRIMARY KEY (topic, part)
);

-- +goose Down
DROP TABLE audit_stream_positions;
