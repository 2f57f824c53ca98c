-- Every suppression rule, oldest first.
SELECT id, field, pattern, reason, created_by, created_at FROM suppressions ORDER BY id
