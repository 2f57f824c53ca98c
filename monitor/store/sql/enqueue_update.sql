-- Queue an "updated" alert unless a first one ("new", "approval_needed") or an "updated" one for the exposure is still waiting on
-- that channel: the waiting one is rendered from the current row, so it already says it. One
-- that is leased (being delivered) may have been rendered already, so it does not count. Only a
-- channel that announced the exposure hears its updates (not one its routing or a suppression
-- kept the first alert from).
INSERT INTO alerts (exposure_id, channel, event, event_key, origin, summary)
SELECT $1, $2, 'updated', $3, $4, $5
WHERE EXISTS (
    SELECT 1 FROM alerts
    WHERE exposure_id = $1 AND channel = $2 AND event IN ('new', 'approval_needed')
)
  AND NOT EXISTS (
    SELECT 1 FROM alerts
    WHERE exposure_id = $1 AND channel = $2 AND sent_at IS NULL AND dead_at IS NULL
      AND event IN ('new', 'approval_needed', 'updated')
      AND (leased_until IS NULL OR leased_until <= now())
)
ON CONFLICT (exposure_id, channel, event, event_key) DO NOTHING
RETURNING id
