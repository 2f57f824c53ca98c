-- The audit trail of ad-hoc lookups, newest first.
SELECT id, actor, domain, scanned, paths, since, started_at, finished_at, counts
FROM lookups ORDER BY started_at DESC, id DESC LIMIT $1
