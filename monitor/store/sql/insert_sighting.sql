-- Record where an exposure was seen; the same place twice is one sighting.
INSERT INTO sightings (
    exposure_id, source_id, origin, line, feed, url, infected_at, victim_hash, family, country
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (exposure_id, origin, line) DO NOTHING
RETURNING id
