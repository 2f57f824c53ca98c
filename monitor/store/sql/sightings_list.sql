-- An exposure's latest sightings: where it was seen and what the infected machine told.
SELECT origin, line, feed, infected_at, victim_hash, family, country, seen_at
FROM sightings WHERE exposure_id = $1 ORDER BY seen_at DESC, id DESC LIMIT $2
