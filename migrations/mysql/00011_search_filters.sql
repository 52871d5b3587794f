-- The search index carries copies of the columns that decide who may read
-- a document and its age, so that Groonga ranks, filters and counts a
-- search from the index alone (sqlstore/search_groonga.go). documents stays
-- the truth: every result is re-checked against it.
--
-- document_excerpts keeps a bounded prefix of each body that ranked
-- results' snippets are cut from, read with the documents rows: bodies run
-- to megabytes, and cutting a window from them (LOCATE, or Groonga's
-- snippet_html) cost more than the search. It is InnoDB, written in the
-- document's transaction, so it never holds orphans.
--
-- Rows indexed before this migration are filled in by sqlstore on Migrate.
-- Numbered 00011 to come after 00010 (idempotency keys, made beside it);
-- goose applies versions in order.

-- +goose Up
ALTER TABLE document_search
  ADD COLUMN visibility    VARCHAR(16) NOT NULL DEFAULT '',
  ADD COLUMN owner_id      VARCHAR(32) NOT NULL DEFAULT '',
  ADD COLUMN department_id VARCHAR(32) NOT NULL DEFAULT '',
  ADD COLUMN created_at    DATETIME(6) NOT NULL DEFAULT '2000-01-01 00:00:00';

CREATE TABLE document_excerpts (
  document_id VARCHAR(32) NOT NULL PRIMARY KEY,
  excerpt     TEXT        NOT NULL,
  CONSTRAINT fk_excerpts_document FOREIGN KEY (document_id) REFERENCES documents (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE document_excerpts;
ALTER TABLE document_search
  DROP COLUMN visibility,
  DROP COLUMN owner_id,
  DROP COLUMN department_id,
  DROP COLUMN created_at;
