-- The stats service's own database: usage and quota per department, access
-- counters, and its three-phase-commit participant rows.

-- +goose Up
CREATE TABLE department_usage (
  department_id  VARCHAR(32) NOT NULL PRIMARY KEY,
  quota_bytes    BIGINT      NOT NULL DEFAULT 0,
  bytes_used     BIGINT      NOT NULL DEFAULT 0,
  reserved_bytes BIGINT      NOT NULL DEFAULT 0,
  documents      BIGINT      NOT NULL DEFAULT 0,
  updated_at     DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE document_counters (
  document_id    VARCHAR(32) NOT NULL PRIMARY KEY,
  views          BIGINT      NOT NULL DEFAULT 0,
  downloads      BIGINT      NOT NULL DEFAULT 0,
  last_access_at DATETIME(6) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE document_hourly (
  document_id VARCHAR(32) NOT NULL,
  hour        DATETIME    NOT NULL,
  views       BIGINT      NOT NULL DEFAULT 0,
  downloads   BIGINT      NOT NULL DEFAULT 0,
  PRIMARY KEY (document_id, hour),
  KEY ix_hourly_hour (hour)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE consumer_offsets (
  consumer    VARCHAR(64) NOT NULL,
  part        INT         NOT NULL,
  next_offset BIGINT      NOT NULL,
  PRIMARY KEY (consumer, part)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE txn_participant (
  participant VARCHAR(32) NOT NULL,
  txid        VARCHAR(40) NOT NULL,
  state       VARCHAR(16) NOT NULL,
  payload     LONGTEXT    NOT NULL,
  peers       TEXT        NOT NULL,
  deadline    DATETIME(6) NOT NULL,
  created_at  DATETIME(6) NOT NULL,
  updated_at  DATETIME(6) NOT NULL,
  PRIMARY KEY (participant, txid),
  KEY ix_txn_participant_deadline (state, deadline)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE txn_participant;
DROP TABLE consumer_offsets;
DROP TABLE document_hourly;
DROP TABLE document_counters;
DROP TABLE department_usage;
