-- Delete the alerts delivered or dead-lettered before the cut-off $1, except an exposure's
-- announcement ("new", or "approval_needed" when a human had to decide), which its follow-ups
-- thread under and are routed by. Alerts still to be
-- delivered stay. Returns how many.
WITH gone AS (
    DELETE FROM alerts
    WHERE coalesce(sent_at, dead_at) < $1 AND event NOT IN ('new', 'approval_needed')
    RETURNING 1
)
SELECT count(*) FROM gone
