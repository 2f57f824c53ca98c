-- Exposures changed since a moment, for batch export (no secret, only hints).
SELECT e.*, (SELECT count(*) FROM sightings s WHERE s.exposure_id = e.id) AS sightings
FROM exposures e WHERE e.last_seen >= $1 ORDER BY e.id
