-- The audit trail, newest first, optionally for one exposure.
SELECT a.*, e.login, e.host
FROM actions a JOIN exposures e ON e.id = a.exposure_id
WHERE ($1::bigint IS NULL OR a.exposure_id = $1)
ORDER BY a.id DESC
LIMIT $2
