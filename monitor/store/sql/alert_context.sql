-- What alerts need beyond their exposures ($1, ids): each one's infected machine's facts (from
-- its latest sighting that has any), how many other exposures the same machine leaked (by its
-- hashed id), and the leak clock's marks.
SELECT e.id AS exposure_id, s.country, s.family, s.infected_at, s.victim_hash,
       (SELECT count(DISTINCT o.exposure_id) FROM sightings o
         WHERE s.victim_hash IS NOT NULL AND o.victim_hash = s.victim_hash
           AND o.exposure_id <> e.id) AS other_credentials,
       e.alerted_at, e.contained_at
FROM exposures e
LEFT JOIN LATERAL (
    SELECT country, family, infected_at, victim_hash FROM sightings
    WHERE exposure_id = e.id
    ORDER BY (victim_hash IS NOT NULL OR family IS NOT NULL OR country IS NOT NULL) DESC,
             seen_at DESC, id DESC
    LIMIT 1
) s ON true
WHERE e.id = ANY($1::bigint[])
