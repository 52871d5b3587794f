-- Three-phase commit: the coordinator's log and the document participant's
-- barrier rows (the stats database has its own participant table).

-- +goose Up
CREATE TABLE txn_coordinator (
  txid       TEXT NOT NULL PRIMARY KEY,
  state      TEXT NOT NULL,
  branches   TEXT NOT NULL,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL
);
CREATE INDEX ix_txn_coordinator_state ON txn_coordinator (state, updated_at);

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
DROP TABLE txn_coordinator;
