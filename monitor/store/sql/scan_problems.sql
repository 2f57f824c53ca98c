-- The problems recorded for the sources of a scan.
SELECT p.origin, p.reason FROM source_problems AS p
WHERE p.source_id IN (SELECT DISTINCT source_id FROM work_units WHERE scan_id = $1)
ORDER BY p.id
