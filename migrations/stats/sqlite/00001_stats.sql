-- The stats service's own database: usage and quota per department, access
-- counters, and its three-phase-commit participant rows.

-- +goose Up
CREATE TABLE department_usage (
  department_id  TEXT    NOT NULL PRIMARY KEY,
  quota_bytes    INTEGER NOT NULL DEFAULT 0,
  bytes_used     INTEGER NOT NULL DEFAULT 0,
  reserved_bytes INTEGER NOT NULL DEFAULT 0,
  documents      INTEGER NOT NULL DEFAULT 0,
  updated_at     DATETIME NOT NULL
);

CREATE TABLE document_counters (
  document_id    TEXT    NOT NULL PRIMARY KEY,
  views          INTEGER NOT NULL DEFAULT 0,
  downloads      INTEGER NOT NULL DEFAULT 0,
  last_access_at DATETIME NULL
);

CREATE TABLE document_hourly (
  document_id TEXT    NOT NULL,
  hour        DATETIME NOT NULL,
  views       INTEGER NOT NULL DEFAULT 0,
  downloads   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (document_id, hour)
);
CREATE INDEX ix_hourly_hour ON document_hourly (hour);

CREATE TABLE consumer_offsets (
  consumer    TEXT    NOT NULL,
  part        INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  PRIMARY KEY (consumer, part)
);

CREATE TABLE txn_participant (
  participant TEXT NOT NULL,
  txid        TEXT NOT NULL,
  state       TEXT NOT NULL,
  payload     TEXT NOT NULL,
  peers       TEXT NOT NULL,
  deadline    DATETIME NOT NULL,
  created_at  DATETIME NOT NULL,
  updated_at  DATETIME NOT NULL,
  PRIMARY KEY (participant, txid)
);
CREATE INDEX ix_txn_participant_deadline ON txn_participant (state, deadline);

-- +goose Down
DROP TABLE txn_participant;
DROP TABLE consumer_offsets;
DROP TABLE document_hourly;
DROP TABLE document_counters;
DROP TABLE department_usage;
