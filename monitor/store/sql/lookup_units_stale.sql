-- The lookups whose transient rows are left over: finished, or started `$1` seconds ago or more
-- (a lookup that died).
SELECT l.id FROM lookups l
WHERE (l.finished_at IS NOT NULL OR l.started_at < now() - make_interval(secs => $1))
  AND (EXISTS (SELECT 1 FROM lookup_units u WHERE u.lookup_id = l.id)
       OR EXISTS (SELECT 1 FROM lookup_findings f WHERE f.lookup_id = l.id))
