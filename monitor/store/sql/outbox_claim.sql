-- Claim up to $2 due alerts of channel $1, oldest first, with a lease of $3 seconds, reading only
-- the head of the channel's queue (migration 018). An alert that is leased or waiting for a
-- retry holds back only the later alerts of its own exposure (a follow-up never overtakes the
-- message it threads under); the rest of the channel goes on. Dead-lettered alerts are never
-- claimed. Only alerts of exposures at severity $4 or above are claimed (0: all), so urgent
-- ones go out while the rest wait to be grouped. Run after outbox_lock in the same transaction
-- (claims of one channel never pass each other); rows another transaction is recording are
-- skipped, not waited for.
WITH due AS (
    SELECT a.id FROM alerts AS a
    WHERE a.channel = $1 AND a.sent_at IS NULL AND a.dead_at IS NULL
      AND a.severity >= $4
      AND a.next_attempt <= now()
      AND (a.leased_until IS NULL OR a.leased_until <= now())
      AND NOT EXISTS (
          SELECT 1 FROM alerts AS b
          WHERE b.exposure_id = a.exposure_id AND b.channel = a.channel
            AND b.sent_at IS NULL AND b.dead_at IS NULL AND b.id < a.id
            AND (b.next_attempt > now() OR b.leased_until > now())
          OFFSET 0  -- asked per candidate through alerts_queue_exposure, never a pass over all
      )
    ORDER BY a.id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE alerts AS a SET leased_until = now() + make_interval(secs => $3)
WHERE a.id = ANY (ARRAY(SELECT id FROM due))  -- by primary key, whatever the table's size
RETURNING a.id, a.exposure_id, a.event, a.origin, a.summary, a.created_at, a.attempts,
          (SELECT f.ref FROM alerts AS f
            WHERE f.exposure_id = a.exposure_id AND f.channel = a.channel
              AND f.event IN ('new', 'approval_needed') AND f.ref IS NOT NULL
            ORDER BY f.id LIMIT 1) AS thread_ref
