-- Claim one firing of a scheduled job for this cluster; NULL when another process has it.
INSERT INTO scheduled_runs (job, slot, host) VALUES ($1, $2, $3)
ON CONFLICT (job, slot) DO NOTHING
RETURNING slot
