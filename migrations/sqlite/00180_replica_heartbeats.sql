-- The read replicas' heartbeat table (see mysql/00180): replicas are
-- MariaDB's, so the embedded database never writes it; it exists so that
-- both dialects keep the same versions.

-- +goose Up
CREATE TABLE replica_heartbeats (
  instance   TEXT NOT NULL PRIMARY KEY,
  beat       INTEGER NOT NULL,
  updated_at DATETIME NOT NULL
);

-- +goose Down
DROP TABLE replica_heartbeats;
