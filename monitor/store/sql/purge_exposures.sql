-- Delete the exposures picked by purge_pick ($1), their sightings, alerts and scan hits with them;
-- their audit rows were anonymised before and stay (ON DELETE SET NULL).
WITH gone AS (DELETE FROM exposures WHERE id = ANY($1::bigint[]) RETURNING 1)
SELECT count(*) FROM gone
