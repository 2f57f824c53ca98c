-- Add a suppression rule; the same field and pattern again replaces its reason.
INSERT INTO suppressions (field, pattern, reason, created_by)
VALUES ($1, $2, $3, $4)
ON CONFLICT (field, pattern) DO UPDATE SET reason = EXCLUDED.reason,
    created_by = EXCLUDED.created_by, created_at = now()
RETURNING id
