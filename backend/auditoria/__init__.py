"""Reading the audit trail for staff (`/admin/auditoria`); the rows are written by core.audit."""
