-- The leak clock: the first delivered alert of an exposure marks it alerted, once (for every
-- exposure of the alerts $1 delivered by one post).
UPDATE exposures e SET alerted_at = now()
FROM (SELECT DISTINCT exposure_id FROM alerts WHERE id = ANY($1::bigint[])) a
WHERE e.id = a.exposure_id AND e.alerted_at IS NULL
RETURNING e.first_seen, e.alerted_at, e.contained_at
