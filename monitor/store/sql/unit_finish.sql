-- Close a unit with its counters, once: a unit already closed keeps its first outcome.
UPDATE work_units SET
    status = $2, lines = $3, bytes = $4, records = $5, matches = $6, problems = $7,
    skipped_lines = $8, error = $9, finished_at = now()
WHERE id = $1 AND status = 'queued'
RETURNING source_id
