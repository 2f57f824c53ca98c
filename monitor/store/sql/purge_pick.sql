-- Up to $2 exposures past retention, locked until commit: closed (resolved or dismissed by a
-- human or a rule, or suppressed by the policy and never reopened) before the cut-off $1 and not
-- seen since. A match arriving meanwhile waits for the lock, then finds the exposure gone.
SELECT e.id FROM exposures e
WHERE e.lifecycle_at < $1 AND e.last_seen < $1
  AND (e.lifecycle IN ('resolved', 'dismissed')
       OR (e.lifecycle = 'open' AND e.status = 'dismissed'
           AND NOT EXISTS (SELECT 1 FROM transitions t WHERE t.exposure_id = e.id)))
ORDER BY e.id
LIMIT $2
FOR UPDATE
