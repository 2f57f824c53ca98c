-- Delete the exposures picked (and locked) by purge_pick ($1) with their sightings, alerts and
-- scan hits; their audit rows were anonymised before and stay (ON DELETE SET NULL). A writer
-- that named one of them committed before the lock was granted, so its rows are seen here.
WITH s AS (DELETE FROM sightings WHERE exposure_id = ANY($1::bigint[])),
     a AS (DELETE FROM alerts WHERE exposure_id = ANY($1::bigint[])),
     h AS (DELETE FROM scan_hits WHERE exposure_id = ANY($1::bigint[])),
     gone AS (DELETE FROM exposures WHERE id = ANY($1::bigint[]) RETURNING 1)
SELECT count(*) FROM gone
