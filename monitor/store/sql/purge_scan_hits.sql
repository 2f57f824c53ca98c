-- Delete the hits scans reported (copies of their output rows) of scans whose sources all
-- started before the cut-off $1. Returns how many.
WITH gone AS (
    DELETE FROM scan_hits h
    WHERE NOT EXISTS (
        SELECT 1 FROM work_units u JOIN sources s ON s.id = u.source_id
        WHERE u.scan_id = h.scan_id AND s.started_at >= $1)
    RETURNING 1
)
SELECT count(*) FROM gone
