-- Delete the published line counts (text bases' line starts) noted before the cut-off $1: a
-- file read again later publishes its own.
WITH gone AS (DELETE FROM line_marks WHERE marked_at < $1 RETURNING 1)
SELECT count(*) FROM gone
