-- What alerts need beyond their exposures ($1): each exposure's latest sighting's victim facts.
SELECT DISTINCT ON (s.exposure_id) s.exposure_id, s.country, s.family
FROM sightings s WHERE s.exposure_id = ANY($1::bigint[])
ORDER BY s.exposure_id, s.seen_at DESC, s.id DESC
