-- The audit log (package audit) fills the audit_log table 00001 created:
-- each entry is written in the same local transaction as the change it
-- records. department_id is the department of the entry's target (or its
-- actor), so a dept_admin can be shown its own department's entries;
-- detail is JSON (old/new values of an update). The indexes serve the
-- filters of GET /api/v1/admin/audit, newest first.

-- +goose Up
ALTER TABLE audit_log
  ADD COLUMN department_id VARCHAR(32) NOT NULL DEFAULT '',
  ADD COLUMN detail TEXT NULL,
  ADD KEY ix_audit_action (action, at),
  ADD KEY ix_audit_target (target, at),
  ADD KEY ix_audit_department (department_id, at);

-- +goose Down
ALTER TABLE audit_log
  DROP KEY ix_audit_department,
  DROP KEY ix_audit_target,
  DROP KEY ix_audit_action,
  DROP COLUMN detail,
  DROP COLUMN department_id;
