-- An attempt ended in a fault of the file: back off, or quarantine at the last allowed attempt.
-- Returns whether the file is now quarantined.
UPDATE drop_files SET
    last_error = $2,
    next_attempt = now() + make_interval(secs => $3),
    quarantined_at = CASE WHEN attempts >= $4 THEN now() END,
    updated_at = now()
WHERE identity = $1
RETURNING quarantined_at IS NOT NULL
