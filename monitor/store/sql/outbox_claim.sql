-- Claim up to $2 due alerts of channel $1, oldest first, with a lease of $3 seconds (migration
-- 005). An alert that is leased or waiting for a retry holds back only the later alerts of its
-- own exposure (a follow-up never overtakes the message it threads under); the rest of the
-- channel goes on. Dead-lettered alerts are never claimed. Only alerts of exposures at severity
-- $4 or above are claimed (0: all), so urgent ones go out while the rest wait to be grouped.
-- Run after outbox_lock in the same transaction.
WITH due AS (
    SELECT a.id FROM alerts a
    WHERE a.channel = $1 AND a.sent_at IS NULL AND a.dead_at IS NULL
      AND a.next_attempt <= now()
      AND (a.leased_until IS NULL OR a.leased_until <= now())
      AND (SELECT e.severity FROM exposures e WHERE e.id = a.exposure_id) >= $4
      AND NOT EXISTS (
          SELECT 1 FROM alerts b
          WHERE b.channel = a.channel AND b.exposure_id = a.exposure_id
            AND b.sent_at IS NULL AND b.dead_at IS NULL AND b.id < a.id
            AND (b.next_attempt > now() OR b.leased_until > now())
      )
    ORDER BY a.id
    LIMIT $2
)
UPDATE alerts a SET leased_until = now() + make_interval(secs => $3)
FROM due
WHERE a.id = due.id
RETURNING a.id, a.exposure_id, a.event, a.origin, a.summary, a.created_at, a.attempts,
          (SELECT f.ref FROM alerts f
            WHERE f.exposure_id = a.exposure_id AND f.channel = a.channel
              AND f.event IN ('new', 'approval_needed') AND f.ref IS NOT NULL
            ORDER BY f.id LIMIT 1) AS thread_ref
