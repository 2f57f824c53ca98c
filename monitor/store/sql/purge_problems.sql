-- Delete the problems (refused input lines, with their origins) recorded before the cut-off $1.
WITH gone AS (DELETE FROM source_problems WHERE created_at < $1 RETURNING 1)
SELECT count(*) FROM gone
