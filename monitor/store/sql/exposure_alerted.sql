-- The leak clock: the first delivered alert of an exposure marks it alerted, once.
UPDATE exposures e SET alerted_at = now()
FROM alerts a
WHERE a.id = $1 AND e.id = a.exposure_id AND e.alerted_at IS NULL
RETURNING e.first_seen, e.alerted_at, e.contained_at
