-- Queue alerts in the given order, each with its exposure's severity ($7, or NULL: the trigger of
-- migration 018 reads it); a repeat of (exposure, channel, event, key) is ignored, so nothing is
-- sent twice. An "updated" alert is queued only on a channel that announced the
-- exposure (not one its routing or a suppression kept the first alert from), and not while a
-- first one ("new", "approval_needed") or "updated" one of the exposure still waits on that channel: the waiting one is
-- rendered from the current row, so it already says it. One that is leased (being delivered) may
-- have been rendered already, so it does not count. The caller passes at most one "updated"
-- alert per exposure and channel (a later one would have waited behind the first).
INSERT INTO alerts (exposure_id, channel, event, event_key, origin, summary, severity)
SELECT v.exposure_id, v.channel, v.event, v.event_key, v.origin, v.summary, v.severity
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::smallint[])
     WITH ORDINALITY AS v(exposure_id, channel, event, event_key, origin, summary, severity, ord)
WHERE v.event <> 'updated'
   OR (
       EXISTS (
           SELECT 1 FROM alerts AS a
           WHERE a.exposure_id = v.exposure_id AND a.channel = v.channel
             AND a.event IN ('new', 'approval_needed')
       )
       AND NOT EXISTS (
           SELECT 1 FROM alerts AS a
           WHERE a.exposure_id = v.exposure_id AND a.channel = v.channel
             AND a.sent_at IS NULL AND a.dead_at IS NULL
             AND a.event IN ('new', 'approval_needed', 'updated')
             AND (a.leased_until IS NULL OR a.leased_until <= now())
       )
   )
ORDER BY v.ord
ON CONFLICT (exposure_id, channel, event, event_key) DO NOTHING
RETURNING id
