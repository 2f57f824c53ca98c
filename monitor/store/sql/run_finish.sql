-- Mark a scheduled run finished.
UPDATE scheduled_runs SET finished_at = now() WHERE job = $1 AND slot = $2
