-- Claim one firing of a scheduled job by its scheduled time, once for the whole cluster
-- (every daemon computes the same slot from the cron); NULL when another process has it.
INSERT INTO scheduled_runs (job, slot, host, scan_id) VALUES ($1, $2, $3, $4)
ON CONFLICT (job, slot) DO NOTHING
RETURNING slot
