-- Share links (package shares): only the SHA-256 of a link's token is
-- stored; downloads is counted by a conditional UPDATE (downloads <
-- max_downloads) so that the limit holds across instances. Upload links:
-- files_used and bytes_used are reserved by the documents participant's
-- prepare and released by its abort, so they count exactly the documents
-- that exist (or are on their way to) through the link.

-- +goose Up
CREATE TABLE share_links (
  id            TEXT    NOT NULL PRIMARY KEY,
  document_id   TEXT    NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  token_hash    TEXT    NOT NULL UNIQUE,
  password_hash TEXT    NULL,
  created_by    TEXT    NOT NULL,
  created_at    DATETIME NOT NULL,
  expires_at    DATETIME NOT NULL,
  max_downloads INTEGER NULL,
  downloads     INTEGER NOT NULL DEFAULT 0,
  revoked_at    DATETIME NULL
);
CREATE INDEX ix_share_links_document ON share_links (document_id, created_at);

CREATE TABLE upload_links (
  id              TEXT    NOT NULL PRIMARY KEY,
  token_hash      TEXT    NOT NULL UNIQUE,
  password_hash   TEXT    NULL,
  created_by      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title           TEXT    NOT NULL,
  tags            TEXT    NOT NULL,
  created_at      DATETIME NOT NULL,
  expires_at      DATETIME NOT NULL,
  max_files       INTEGER NOT NULL,
  max_file_bytes  INTEGER NOT NULL,
  max_total_bytes INTEGER NOT NULL,
  files_used      INTEGER NOT NULL DEFAULT 0,
  bytes_used      INTEGER NOT NULL DEFAULT 0,
  revoked_at      DATETIME NULL
);
CREATE INDEX ix_upload_links_creator ON upload_links (created_by, created_at);

-- +goose Down
DROP TABLE upload_links;
DROP TABLE share_links;
