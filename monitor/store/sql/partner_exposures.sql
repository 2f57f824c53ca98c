-- A partner's exposures last seen since $2, oldest first, dismissed ones left out (the
-- partner report).
SELECT e.*, (SELECT count(*) FROM sightings s WHERE s.exposure_id = e.id) AS sightings
FROM exposures e
WHERE e.partner = $1 AND e.last_seen >= $2 AND e.status <> 'dismissed'
ORDER BY e.first_seen, e.id
