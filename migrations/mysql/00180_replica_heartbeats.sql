-- The read replicas' heartbeat (sqlstore/replicas.go): every docplat
-- process with DOCPLAT_MYSQL_REPLICA_DSNS writes its clock (Unix
-- nanoseconds) to its own row on the primary a few times a second and reads
-- the row back from each replica; the beats a replica has not seen yet are
-- its lag. Rows of processes gone for a day are deleted at start.

-- +goose Up
CREATE TABLE replica_heartbeats (
  instance   VARCHAR(32) NOT NULL PRIMARY KEY,
  beat       BIGINT NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  KEY ix_replica_heartbeats_updated_at (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE replica_heartbeats;
