-- Idempotency-Key: the fingerprint of the request a key's outcome answers
-- (package idempotency: method, path, the content's sha256, the metadata
-- fields and If-Match, digested). It is written by the documents
-- participant's commit in the same local transaction as the commit mark, or
-- with the recorded answer of a write that was refused; a retry whose
-- fingerprint differs is refused with 422. NULL on records made before this
-- migration (or by an older instance): those compare method and path only.

-- +goose Up
ALTER TABLE idempotency_keys ADD COLUMN fingerprint VARCHAR(80) NULL;

-- +goose Down
ALTER TABLE idempotency_keys DROP COLUMN fingerprint;
