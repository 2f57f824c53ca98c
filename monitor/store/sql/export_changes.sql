-- Exposures changed at or after cursor $1 and before the horizon $2 (change_horizon, same
-- snapshot), optionally only those seen or decided on since $3, in change order, each with its
-- lifecycle and its latest sighting's machine facts (machine id hashed). Hints only, no secret.
SELECT e.*, e.change_xid::text AS change,
       (SELECT count(*) FROM sightings s WHERE s.exposure_id = e.id) AS sightings,
       ls.victim_hash, ls.family, ls.country, ls.feed, ls.origin AS seen_origin, ls.line AS seen_line
FROM exposures e
LEFT JOIN LATERAL (
    SELECT s.victim_hash, s.family, s.country, s.feed, s.origin, s.line
    FROM sightings s WHERE s.exposure_id = e.id ORDER BY s.seen_at DESC, s.id DESC LIMIT 1
) ls ON true
WHERE e.change_xid >= $1::text::xid8 AND e.change_xid < $2::text::xid8
  AND ($3::timestamptz IS NULL OR e.last_seen >= $3 OR e.lifecycle_at >= $3)
ORDER BY e.change_xid, e.id
