-- How far a lookup read by workers is: its units, those closed, the counters of those done.
SELECT count(*) AS units,
       count(*) FILTER (WHERE status <> 'queued') AS closed,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       COALESCE(sum(lines), 0) AS lines,
       COALESCE(sum(bytes), 0) AS bytes,
       COALESCE(sum(records), 0) AS records,
       COALESCE(sum(problems), 0) AS problems,
       min(error) AS error
FROM lookup_units WHERE lookup_id = $1
