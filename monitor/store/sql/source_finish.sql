-- Close a source run with its counters.
UPDATE sources SET
    status = $2, finished_at = now(), heartbeat_at = now(), lines = $3, bytes = $4, records = $5,
    matches = $6, problems = $7, skipped_lines = $8, error = $9
WHERE id = $1
