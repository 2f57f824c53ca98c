-- Delete the alerts of purged exposures ($2), and alerts delivered or dead-lettered before the
-- cut-off $1, except a kept exposure's announcement ("new"), which its follow-ups thread under
-- and are routed by. Alerts still to be delivered stay. Returns how many.
WITH gone AS (
    DELETE FROM alerts a
    WHERE a.exposure_id = ANY($2::bigint[])
       OR (coalesce(a.sent_at, a.dead_at) < $1 AND a.event <> 'new')
    RETURNING 1
)
SELECT count(*) FROM gone
