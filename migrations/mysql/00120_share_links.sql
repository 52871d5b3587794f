-- Share links (package shares): only the SHA-256 of a link's token is
-- stored; downloads is counted by a conditional UPDATE (downloads <
-- max_downloads) so that the limit holds across instances. Upload links:
-- files_used and bytes_used are reserved by the documents participant's
-- prepare and released by its abort, so they count exactly the documents
-- that exist (or are on their way to) through the link.

-- +goose Up
CREATE TABLE share_links (
  id            VARCHAR(32)  NOT NULL PRIMARY KEY,
  document_id   VARCHAR(32)  NOT NULL,
  token_hash    CHAR(64)     NOT NULL,
  password_hash VARCHAR(100) NULL,
  created_by    VARCHAR(32)  NOT NULL,
  created_at    DATETIME(6)  NOT NULL,
  expires_at    DATETIME(6)  NOT NULL,
  max_downloads BIGINT       NULL,
  downloads     BIGINT       NOT NULL DEFAULT 0,
  revoked_at    DATETIME(6)  NULL,
  UNIQUE KEY ux_share_links_token (token_hash),
  KEY ix_share_links_document (document_id, created_at),
  CONSTRAINT fk_share_links_document FOREIGN KEY (document_id) REFERENCES documents (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE upload_links (
  id                 VARCHAR(32)  NOT NULL PRIMARY KEY,
  token_hash         CHAR(64)     NOT NULL,
  password_hash      VARCHAR(100) NULL,
  created_by         VARCHAR(32)  NOT NULL,
  title              VARCHAR(200) NOT NULL,
  tags               TEXT         NOT NULL,
  created_at         DATETIME(6)  NOT NULL,
  expires_at         DATETIME(6)  NOT NULL,
  max_files          BIGINT       NOT NULL,
  max_file_bytes     BIGINT       NOT NULL,
  max_total_bytes    BIGINT       NOT NULL,
  files_used         BIGINT       NOT NULL DEFAULT 0,
  bytes_used         BIGINT       NOT NULL DEFAULT 0,
  revoked_at         DATETIME(6)  NULL,
  UNIQUE KEY ux_upload_links_token (token_hash),
  KEY ix_upload_links_creator (created_by, created_at),
  CONSTRAINT fk_upload_links_creator FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE upload_links;
DROP TABLE share_links;
