-- How far a scan is: its units, those closed, those failed, lines and records read so far.
SELECT count(*) AS units,
       count(*) FILTER (WHERE status <> 'queued') AS closed,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       COALESCE(sum(lines), 0) AS lines,
       COALESCE(sum(records), 0) AS records
FROM work_units WHERE scan_id = $1
