-- Containments waiting for a human's decision, oldest first, with their exposure.
SELECT c.exposure_id, c.provider, c.login, c.dry_run, c.sessions_only, c.reason, c.created_at,
       e.severity, e.host, e.partner, e.kind
FROM containments c JOIN exposures e ON e.id = c.exposure_id
WHERE c.status = 'awaiting_approval'
ORDER BY c.created_at, c.id
LIMIT $1
