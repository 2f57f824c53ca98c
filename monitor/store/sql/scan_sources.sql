-- The sources of a scan with their counters.
SELECT id, location, status, lines, records FROM sources
WHERE id IN (SELECT DISTINCT source_id FROM work_units WHERE scan_id = $1) ORDER BY id
