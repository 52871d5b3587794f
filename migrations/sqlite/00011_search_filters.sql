-- MariaDB's search index gained permission columns in this version. FTS5
-- searches join documents for them, so SQLite needs no change; this keeps
-- both dialects at the same versions.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
