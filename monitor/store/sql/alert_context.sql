-- What an alert needs beyond the exposure: the latest sighting's victim facts and the partner contact.
SELECT s.country, s.family
FROM sightings s WHERE s.exposure_id = $1 ORDER BY s.seen_at DESC, s.id DESC LIMIT 1
