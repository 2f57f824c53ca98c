-- Claim due alerts of one channel, oldest first; other deliverers skip the locked rows.
-- An alert waiting for a retry holds back the later ones of its channel: order is kept.
SELECT a.id, a.exposure_id, a.event, a.origin, a.summary, a.created_at, a.attempts,
       (SELECT f.ref FROM alerts f
         WHERE f.exposure_id = a.exposure_id AND f.channel = a.channel AND f.event = 'new'
           AND f.ref IS NOT NULL) AS thread_ref
FROM alerts a
WHERE a.channel = $1 AND a.sent_at IS NULL AND a.next_attempt <= now()
  AND NOT EXISTS (
      SELECT 1 FROM alerts b
      WHERE b.channel = a.channel AND b.sent_at IS NULL AND b.id < a.id AND b.next_attempt > now()
  )
ORDER BY a.id
LIMIT $2
FOR UPDATE OF a SKIP LOCKED
