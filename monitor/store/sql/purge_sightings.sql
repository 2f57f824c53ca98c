-- Delete the sightings seen before the cut-off $1 except the latest of each exposure (its
-- infected machine's facts). Returns how many.
WITH gone AS (
    DELETE FROM sightings s
    WHERE s.seen_at < $1 AND EXISTS (
        SELECT 1 FROM sightings n
        WHERE n.exposure_id = s.exposure_id AND (n.seen_at, n.id) > (s.seen_at, s.id))
    RETURNING 1
)
SELECT count(*) FROM gone
