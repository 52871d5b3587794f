-- docplat schema, MariaDB/MySQL dialect. Full-text search needs the Mroonga
-- storage engine (Debian: mariadb-plugin-mroonga, then its install.sql).

-- +goose Up
CREATE TABLE departments (
  id          VARCHAR(32)  NOT NULL PRIMARY KEY,
  name        VARCHAR(200) NOT NULL,
  parent_id   VARCHAR(32)  NULL,
  quota_bytes BIGINT       NOT NULL DEFAULT 0,
  bytes_used  BIGINT       NOT NULL DEFAULT 0,
  created_at  DATETIME(6)  NOT NULL,
  updated_at  DATETIME(6)  NOT NULL,
  UNIQUE KEY uq_departments_name (name),
  CONSTRAINT fk_departments_parent FOREIGN KEY (parent_id) REFERENCES departments (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE users (
  id            VARCHAR(32)  NOT NULL PRIMARY KEY,
  username      VARCHAR(64)  NOT NULL,
  display_name  VARCHAR(200) NOT NULL DEFAULT '',
  password_hash VARCHAR(255) NOT NULL,
  role          VARCHAR(16)  NOT NULL,
  department_id VARCHAR(32)  NULL,
  disabled      BOOLEAN      NOT NULL DEFAULT FALSE,
  created_at    DATETIME(6)  NOT NULL,
  updated_at    DATETIME(6)  NOT NULL,
  UNIQUE KEY uq_users_username (username),
  KEY ix_users_department (department_id),
  CONSTRAINT fk_users_department FOREIGN KEY (department_id) REFERENCES departments (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE tokens (
  id           VARCHAR(32)  NOT NULL PRIMARY KEY,
  user_id      VARCHAR(32)  NOT NULL,
  kind         VARCHAR(16)  NOT NULL,
  name         VARCHAR(200) NOT NULL DEFAULT '',
  token_hash   CHAR(64)     NOT NULL,
  expires_at   DATETIME(6)  NOT NULL,
  created_at   DATETIME(6)  NOT NULL,
  UNIQUE KEY uq_tokens_hash (token_hash),
  KEY ix_tokens_user (user_id),
  KEY ix_tokens_expires (expires_at),
  CONSTRAINT fk_tokens_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE blobs (
  sha256       CHAR(64)    NOT NULL PRIMARY KEY,
  size         BIGINT      NOT NULL,
  created_at   DATETIME(6) NOT NULL,
  last_used_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE documents (
  id            VARCHAR(32)  NOT NULL PRIMARY KEY,
  title         VARCHAR(200) NOT NULL,
  description   TEXT         NOT NULL,
  visibility    VARCHAR(16)  NOT NULL,
  owner_id      VARCHAR(32)  NOT NULL,
  department_id VARCHAR(32)  NULL,
  filename      VARCHAR(255) NOT NULL,
  version       INT          NOT NULL,
  revision      INT          NOT NULL,
  size          BIGINT       NOT NULL,
  mime          VARCHAR(127) NOT NULL,
  sha256        CHAR(64)     NOT NULL,
  views         BIGINT       NOT NULL DEFAULT 0,
  downloads     BIGINT       NOT NULL DEFAULT 0,
  created_at    DATETIME(6)  NOT NULL,
  updated_at    DATETIME(6)  NOT NULL,
  KEY ix_documents_owner (owner_id),
  KEY ix_documents_department (department_id, visibility),
  KEY ix_documents_visibility (visibility, created_at),
  KEY ix_documents_created (created_at),
  KEY ix_documents_views (views),
  CONSTRAINT fk_documents_owner FOREIGN KEY (owner_id) REFERENCES users (id),
  CONSTRAINT fk_documents_department FOREIGN KEY (department_id) REFERENCES departments (id),
  CONSTRAINT fk_documents_blob FOREIGN KEY (sha256) REFERENCES blobs (sha256)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE document_versions (
  document_id VARCHAR(32)  NOT NULL,
  version     INT          NOT NULL,
  sha256      CHAR(64)     NOT NULL,
  size        BIGINT       NOT NULL,
  mime        VARCHAR(127) NOT NULL,
  filename    VARCHAR(255) NOT NULL,
  created_by  VARCHAR(32)  NOT NULL,
  created_at  DATETIME(6)  NOT NULL,
  PRIMARY KEY (document_id, version),
  KEY ix_versions_sha (sha256),
  CONSTRAINT fk_versions_document FOREIGN KEY (document_id) REFERENCES documents (id) ON DELETE CASCADE,
  CONSTRAINT fk_versions_blob FOREIGN KEY (sha256) REFERENCES blobs (sha256)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE document_tags (
  document_id VARCHAR(32) NOT NULL,
  tag         VARCHAR(64) NOT NULL,
  PRIMARY KEY (document_id, tag),
  KEY ix_tags_tag (tag),
  CONSTRAINT fk_tags_document FOREIGN KEY (document_id) REFERENCES documents (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Mroonga is not transactional: rows here are written inside the document
-- transaction, and every query joins documents, so a row left by a rolled-back
-- transaction is invisible and collected by the garbage collector.
CREATE TABLE document_search (
  document_id VARCHAR(32) NOT NULL PRIMARY KEY,
  title       TEXT        NOT NULL,
  tags        TEXT        NOT NULL,
  description TEXT        NOT NULL,
  body        LONGTEXT    NOT NULL,
  indexed_at  DATETIME(6) NOT NULL,
  FULLTEXT INDEX ft_document_search (title, tags, description, body) COMMENT 'tokenizer "TokenBigramSplitSymbolAlphaDigit", normalizer "NormalizerAuto"'
) ENGINE=Mroonga DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Filled by the sharing/permissions work; created now so that the schema has them.
CREATE TABLE grants (
  document_id VARCHAR(32) NOT NULL,
  principal   VARCHAR(64) NOT NULL,
  permission  VARCHAR(16) NOT NULL,
  expires_at  DATETIME(6) NULL,
  PRIMARY KEY (document_id, principal),
  KEY ix_grants_principal (principal),
  CONSTRAINT fk_grants_document FOREIGN KEY (document_id) REFERENCES documents (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE shares (
  token_hash    CHAR(64)     NOT NULL PRIMARY KEY,
  document_id   VARCHAR(32)  NOT NULL,
  created_by    VARCHAR(32)  NOT NULL,
  password_hash VARCHAR(255) NULL,
  max_downloads INT          NULL,
  downloads     INT          NOT NULL DEFAULT 0,
  expires_at    DATETIME(6)  NOT NULL,
  revoked_at    DATETIME(6)  NULL,
  created_at    DATETIME(6)  NOT NULL,
  KEY ix_shares_document (document_id),
  CONSTRAINT fk_shares_document FOREIGN KEY (document_id) REFERENCES documents (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE audit_log (
  id       BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at       DATETIME(6)  NOT NULL,
  actor_id VARCHAR(32)  NOT NULL,
  action   VARCHAR(64)  NOT NULL,
  target   VARCHAR(200) NOT NULL,
  ip       VARCHAR(64)  NOT NULL,
  KEY ix_audit_at (at),
  KEY ix_audit_actor (actor_id, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

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
