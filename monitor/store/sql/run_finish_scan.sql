-- Mark a scheduled run finished: every unit of its scan is closed.
UPDATE scheduled_runs SET finished_at = now() WHERE job = $1 AND scan_id = $2
