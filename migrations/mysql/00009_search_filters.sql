-- The search index carries copies of the columns that decide who may read
-- a document and its age, so that Groonga ranks, filters and counts a
-- search from the index alone (sqlstore/search_groonga.go), and a bounded
-- prefix of the body that snippets are cut from (bodies run to megabytes;
-- cutting a window from them cost more than the search). documents stays
-- the truth: every result is re-checked against it. Rows indexed before
-- this migration are filled in by sqlstore on Migrate.
-- Numbered 00009 so that it does not collide with schema changes made
-- beside it; goose applies versions in order.

-- +goose Up
ALTER TABLE document_search
  ADD COLUMN visibility    VARCHAR(16) NOT NULL DEFAULT '',
  ADD COLUMN owner_id      VARCHAR(32) NOT NULL DEFAULT '',
  ADD COLUMN department_id VARCHAR(32) NOT NULL DEFAULT '',
  ADD COLUMN created_at    DATETIME(6) NOT NULL DEFAULT '2000-01-01 00:00:00',
  ADD COLUMN excerpt       TEXT        NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE document_search
  DROP COLUMN visibility,
  DROP COLUMN owner_id,
  DROP COLUMN department_id,
  DROP COLUMN created_at,
  DROP COLUMN excerpt;
