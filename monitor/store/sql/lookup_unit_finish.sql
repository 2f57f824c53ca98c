-- Close a lookup unit with its counters, once: a unit already closed keeps its first outcome.
UPDATE lookup_units SET
    status = $3, lines = $4, bytes = $5, records = $6, problems = $7, error = $8,
    finished_at = now()
WHERE lookup_id = $1 AND unit_no = $2 AND status = 'queued'
