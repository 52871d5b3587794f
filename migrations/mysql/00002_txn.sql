-- Three-phase commit: the coordinator's log and the document participant's
-- barrier rows (the stats database has its own participant table).

-- +goose Up
CREATE TABLE txn_coordinator (
  txid       VARCHAR(40) NOT NULL PRIMARY KEY,
  state      VARCHAR(16) NOT NULL,
  branches   LONGTEXT    NOT NULL,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  KEY ix_txn_coordinator_state (state, updated_at)
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
DROP TABLE txn_coordinator;
