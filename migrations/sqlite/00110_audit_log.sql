-- The audit log (package audit) fills the audit_log table 00001 created:
-- each entry is written in the same local transaction as the change it
-- records. department_id is the department of the entry's target (or its
-- actor), so a dept_admin can be shown its own department's entries;
-- detail is JSON (old/new values of an update). The indexes serve the
-- filters of GET /api/v1/admin/audit, newest first.

-- +goose Up
ALTER TABLE audit_log ADD COLUMN department_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN detail TEXT NULL;
CREATE INDEX ix_audit_action ON audit_log (action, at);
CREATE INDEX ix_audit_target ON audit_log (target, at);
CREATE INDEX ix_audit_department ON audit_log (department_id, at);

-- +goose Down
DROP INDEX ix_audit_department;
DROP INDEX ix_audit_target;
DROP INDEX ix_audit_action;
ALTER TABLE audit_log DROP COLUMN detail;
ALTER TABLE audit_log DROP COLUMN department_id;
