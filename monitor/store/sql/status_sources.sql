-- The latest source runs.
SELECT id, kind, location, status, started_at, finished_at, lines, records, matches, problems, error
FROM sources ORDER BY id DESC LIMIT $1
