-- Claim a firing of a periodic job for the whole cluster: refused when any process started
-- the same job less than $3 seconds ago. The caller holds an advisory lock on the job name.
INSERT INTO scheduled_runs (job, slot, host, scan_id)
SELECT $1, now(), $2, $4
WHERE NOT EXISTS (
    SELECT 1 FROM scheduled_runs WHERE job = $1 AND slot > now() - make_interval(secs => $3)
)
RETURNING slot
