-- docplat schema, SQLite dialect (embedded mode). Full-text search uses FTS5
-- with the trigram tokenizer; terms under three characters fall back to LIKE
-- on the same table.

-- +goose Up
CREATE TABLE departments (
  id          TEXT    NOT NULL PRIMARY KEY,
  name        TEXT    NOT NULL UNIQUE,
  parent_id   TEXT    NULL REFERENCES departments (id),
  quota_bytes INTEGER NOT NULL DEFAULT 0,
  bytes_used  INTEGER NOT NULL DEFAULT 0,
  created_at  DATETIME NOT NULL,
  updated_at  DATETIME NOT NULL
);

CREATE TABLE users (
  id            TEXT    NOT NULL PRIMARY KEY,
  username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
  display_name  TEXT    NOT NULL DEFAULT '',
  password_hash TEXT    NOT NULL,
  role          TEXT    NOT NULL,
  department_id TEXT    NULL REFERENCES departments (id),
  disabled      BOOLEAN NOT NULL DEFAULT 0,
  created_at    DATETIME NOT NULL,
  updated_at    DATETIME NOT NULL
);
CREATE INDEX ix_users_department ON users (department_id);

CREATE TABLE tokens (
  id         TEXT NOT NULL PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind       TEXT NOT NULL,
  name       TEXT NOT NULL DEFAULT '',
  token_hash TEXT NOT NULL UNIQUE,
  expires_at DATETIME NOT NULL,
  created_at DATETIME NOT NULL
);
CREATE INDEX ix_tokens_user ON tokens (user_id);
CREATE INDEX ix_tokens_expires ON tokens (expires_at);

CREATE TABLE blobs (
  sha256       TEXT    NOT NULL PRIMARY KEY,
  size         INTEGER NOT NULL,
  created_at   DATETIME NOT NULL,
  last_used_at DATETIME NOT NULL
);

-- seq gives the search index a stable integer key (a plain rowid may
-- change on VACUUM).
CREATE TABLE documents (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  id            TEXT    NOT NULL UNIQUE,
  title         TEXT    NOT NULL,
  description   TEXT    NOT NULL,
  visibility    TEXT    NOT NULL,
  owner_id      TEXT    NOT NULL REFERENCES users (id),
  department_id TEXT    NULL REFERENCES departments (id),
  filename      TEXT    NOT NULL,
  version       INTEGER NOT NULL,
  revision      INTEGER NOT NULL,
  size          INTEGER NOT NULL,
  mime          TEXT    NOT NULL,
  sha256        TEXT    NOT NULL REFERENCES blobs (sha256),
  views         INTEGER NOT NULL DEFAULT 0,
  downloads     INTEGER NOT NULL DEFAULT 0,
  created_at    DATETIME NOT NULL,
  updated_at    DATETIME NOT NULL
);
CREATE INDEX ix_documents_owner ON documents (owner_id);
CREATE INDEX ix_documents_department ON documents (department_id, visibility);
CREATE INDEX ix_documents_visibility ON documents (visibility, created_at);
CREATE INDEX ix_documents_created ON documents (created_at);
CREATE INDEX ix_documents_views ON documents (views);

CREATE TABLE document_versions (
  document_id TEXT    NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  version     INTEGER NOT NULL,
  sha256      TEXT    NOT NULL REFERENCES blobs (sha256),
  size        INTEGER NOT NULL,
  mime        TEXT    NOT NULL,
  filename    TEXT    NOT NULL,
  created_by  TEXT    NOT NULL,
  created_at  DATETIME NOT NULL,
  PRIMARY KEY (document_id, version)
);
CREATE INDEX ix_versions_sha ON document_versions (sha256);

CREATE TABLE document_tags (
  document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  tag         TEXT NOT NULL COLLATE NOCASE, -- as MariaDB's collation: Go = go
  PRIMARY KEY (document_id, tag)
);
CREATE INDEX ix_tags_tag ON document_tags (tag);

-- rowid of a search row is the seq of its documents row.
CREATE VIRTUAL TABLE document_search USING fts5 (
  title, tags, description, body, tokenize = 'trigram'
);

CREATE TABLE grants (
  document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  principal   TEXT NOT NULL,
  permission  TEXT NOT NULL,
  expires_at  DATETIME NULL,
  PRIMARY KEY (document_id, principal)
);
CREATE INDEX ix_grants_principal ON grants (principal);

CREATE TABLE shares (
  token_hash    TEXT    NOT NULL PRIMARY KEY,
  document_id   TEXT    NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  created_by    TEXT    NOT NULL,
  password_hash TEXT    NULL,
  max_downloads INTEGER NULL,
  downloads     INTEGER NOT NULL DEFAULT 0,
  expires_at    DATETIME NOT NULL,
  revoked_at    DATETIME NULL,
  created_at    DATETIME NOT NULL
);
CREATE INDEX ix_shares_document ON shares (document_id);

CREATE TABLE audit_log (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  at       DATETIME NOT NULL,
  actor_id TEXT NOT NULL,
  action   TEXT NOT NULL,
  target   TEXT NOT NULL,
  ip       TEXT NOT NULL
);
CREATE INDEX ix_audit_at ON audit_log (at);
CREATE INDEX ix_audit_actor ON audit_log (actor_id, at);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE shares;
DROP TABLE grants;
DROP TABLE document_search;
DROP TABLE document_tags;
DROP TABLE document_versions;
DROP TABLE documents;
DROP TABLE blobs;
DROP TABLE tokens;
DROP TABLE users;
DROP TABLE departments;
