-- Queue a follow-up (contained, stale, failed, ...) on a channel only where the exposure was
-- announced before: a channel its routing kept the first alert from never hears the rest.
-- A repeat is ignored, so nothing is sent twice.
INSERT INTO alerts (exposure_id, channel, event, event_key, origin, summary)
SELECT $1, $2, $3, $4, $5, $6
WHERE EXISTS (
    SELECT 1 FROM alerts
    WHERE exposure_id = $1 AND channel = $2 AND event IN ('new', 'approval_needed', 'updated')
)
ON CONFLICT (exposure_id, channel, event, event_key) DO NOTHING
RETURNING id
