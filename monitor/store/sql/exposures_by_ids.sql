-- Exposures by id, each with its sighting count.
SELECT e.*, (SELECT count(*) FROM sightings s WHERE s.exposure_id = e.id) AS sightings
FROM exposures e WHERE e.id = ANY($1::bigint[])
