-- Quarantined dropped files, newest first.
SELECT location, attempts, last_error AS reason, quarantined_at
FROM drop_files WHERE quarantined_at IS NOT NULL
ORDER BY quarantined_at DESC, location LIMIT $1
