-- Record where a batch's exposures were seen (source $1); the same place twice is one sighting
-- (the caller keeps the first of a place the batch holds twice). Returns the places that are new.
INSERT INTO sightings (
    exposure_id, source_id, origin, line, feed, url, infected_at, victim_hash, family, country
)
SELECT v.exposure_id, $1, v.origin, v.line, v.feed, v.url, v.infected_at, v.victim_hash,
       v.family, v.country
FROM unnest(
    $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::timestamptz[],
    $8::text[], $9::text[], $10::text[]
) AS v(exposure_id, origin, line, feed, url, infected_at, victim_hash, family, country)
ORDER BY v.exposure_id, v.origin, v.line
ON CONFLICT (exposure_id, origin, line) DO NOTHING
RETURNING exposure_id, origin, line
