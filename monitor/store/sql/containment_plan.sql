-- Plan containment of an exposure in a provider, once (a repeat keeps the first plan).
INSERT INTO containments (
    exposure_id, provider, decision, dry_run, status, decided_by, reason, login, idp_user_id,
    sessions_only
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (exposure_id, provider) DO NOTHING
RETURNING id
