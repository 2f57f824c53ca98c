-- Record one work unit of a source; returns its id.
INSERT INTO work_units (scan_id, source_id, path, start_at, stop_at, identity)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
