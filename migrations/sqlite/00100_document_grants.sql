-- Grants (package docs, authority.go): see migrations/mysql/00100. It
-- replaces the placeholder table grants of 00001, which nothing ever wrote.

-- +goose Up
DROP TABLE grants;
CREATE TABLE document_grants (
  document_id TEXT     NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  principal   TEXT     NOT NULL,
  permission  TEXT     NOT NULL,
  expires_at  DATETIME NULL,
  created_by  TEXT     NOT NULL,
  created_at  DATETIME NOT NULL,
  PRIMARY KEY (document_id, principal)
);
CREATE INDEX ix_grants_principal ON document_grants (principal, expires_at);

-- +goose Down
DROP TABLE document_grants;
CREATE TABLE grants (
  document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  principal   TEXT NOT NULL,
  permission  TEXT NOT NULL,
  expires_at  DATETIME NULL,
  PRIMARY KEY (document_id, principal)
);
CREATE INDEX ix_grants_principal ON grants (principal);
