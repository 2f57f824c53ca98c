-- The audit trail, newest first, optionally for one exposure; steps about a purged exposure
-- stay listed, without its login or host.
SELECT a.*, coalesce(e.login, '') AS login, coalesce(e.host, '') AS host
FROM actions a LEFT JOIN exposures e ON e.id = a.exposure_id
WHERE ($1::bigint IS NULL OR a.exposure_id = $1)
ORDER BY a.id DESC
LIMIT $2
