-- Where the audit log's download consumer (package audit) is in each
-- partition of the access topic: written in the same transaction as the
-- entries of the records before it, so a redelivered batch is recorded once.

-- +goose Up
CREATE TABLE audit_stream_positions (
  topic       VARCHAR(255) NOT NULL,
  part        INT          NOT NULL,
  next_offset BIGINT       NOT NULL,
  PRIMARY KEY (topic, part)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE audit_stream_positions;
