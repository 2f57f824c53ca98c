-- Close a source when none of its units is queued any more: counters summed over its units,
-- failed when one of them failed.
UPDATE sources AS s SET
    status = CASE WHEN t.failed THEN 'failed' ELSE 'done' END,
    finished_at = now(), heartbeat_at = now(),
    lines = t.lines, bytes = t.bytes, records = t.records, matches = t.matches,
    problems = t.problems, skipped_lines = t.skipped_lines, error = t.error
FROM (
    SELECT source_id,
           sum(lines) AS lines, sum(bytes) AS bytes, sum(records) AS records,
           sum(matches) AS matches, sum(problems) AS problems,
           sum(skipped_lines) AS skipped_lines,
           bool_or(status = 'failed') AS failed,
           min(error) AS error,
           count(*) FILTER (WHERE status = 'queued') AS pending
    FROM work_units WHERE source_id = $1 GROUP BY source_id
) AS t
WHERE s.id = t.source_id AND t.pending = 0 AND s.status = 'running'
