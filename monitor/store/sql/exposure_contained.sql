-- The leak clock: the first containment that took effect marks the exposure contained, once.
UPDATE exposures SET contained_at = now()
WHERE id = $1 AND contained_at IS NULL
RETURNING alerted_at, contained_at
