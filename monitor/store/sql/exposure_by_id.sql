-- One exposure with its sighting count.
SELECT e.*, (SELECT count(*) FROM sightings s WHERE s.exposure_id = e.id) AS sightings
FROM exposures e WHERE e.id = $1
