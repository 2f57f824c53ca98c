-- Delete the exposures picked by purge_pick ($1); their audit rows were anonymised before.
WITH gone AS (DELETE FROM exposures WHERE id = ANY($1::bigint[]) RETURNING 1)
SELECT count(*) FROM gone
