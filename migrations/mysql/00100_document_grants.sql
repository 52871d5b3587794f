-- Grants (package docs, authority.go): a principal (user:ID or
-- department:ID, the latter covering its sub-departments) holds read, write
-- or manage on one document until expires_at (NULL: no expiry). They are
-- part of the document: written by its metadata write (revision+1) and held
-- by the document cache with it. Listings and search test them with EXISTS
-- over the primary key; the principal index answers "does this caller
-- hold any grant" before a ranked search. It replaces the placeholder table
-- grants of 00001, which nothing ever wrote.

-- +goose Up
DROP TABLE grants;
CREATE TABLE document_grants (
  document_id VARCHAR(32)  NOT NULL,
  principal   VARCHAR(80)  NOT NULL,
  permission  VARCHAR(16)  NOT NULL,
  expires_at  DATETIME(6)  NULL,
  created_by  VARCHAR(32)  NOT NULL,
  created_at  DATETIME(6)  NOT NULL,
  PRIMARY KEY (document_id, principal),
  KEY ix_grants_principal (principal, expires_at),
  CONSTRAINT fk_grants_document FOREIGN KEY (document_id) REFERENCES documents (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE document_grants;
CREATE TABLE grants (
  document_id VARCHAR(32) NOT NULL,
  principal   VARCHAR(64) NOT NULL,
  permission  VARCHAR(16) NOT NULL,
  expires_at  DATETIME(6) NULL,
  PRIMARY KEY (document_id, principal),
  KEY ix_grants_principal (principal),
  CONSTRAINT fk_grants_document FOREIGN KEY (document_id) REFERENCES documents (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
