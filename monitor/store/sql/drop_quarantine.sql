-- Quarantine a dropped file now, with its reason.
UPDATE drop_files SET quarantined_at = now(), last_error = $2, updated_at = now()
WHERE identity = $1
