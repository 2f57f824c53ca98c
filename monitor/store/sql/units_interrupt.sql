-- Close the queued units of sources whose process is gone (a local scan's own units, which
-- no other process serves); returns their scans.
UPDATE work_units SET status = 'failed', error = $2, finished_at = now()
WHERE source_id = ANY($1::bigint[]) AND status = 'queued'
RETURNING scan_id
