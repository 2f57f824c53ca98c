-- Insert an exposure or merge a new sighting's facts into it; returns the row before and after.
-- The sub-select in RETURNING sees the table as it was before this statement (PostgreSQL snapshot).
INSERT INTO exposures AS e (
    fingerprint, secret_fp, kind, url, host, site, login, login_domain, secret_hint, secret_length,
    cookie_name, cookie_expires, reasons, severity, domain, portal, partner, account_login,
    infected_at, first_seen, last_seen
) VALUES (
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
    COALESCE($20, now()), now()
)
ON CONFLICT (fingerprint) DO UPDATE SET
    reasons        = ARRAY(SELECT DISTINCT r FROM unnest(e.reasons || EXCLUDED.reasons) AS r ORDER BY r),
    severity       = GREATEST(e.severity, EXCLUDED.severity),
    portal         = COALESCE(e.portal, EXCLUDED.portal),
    partner        = COALESCE(e.partner, EXCLUDED.partner),
    account_login  = COALESCE(e.account_login, EXCLUDED.account_login),
    domain         = COALESCE(e.domain, EXCLUDED.domain),
    infected_at    = GREATEST(e.infected_at, EXCLUDED.infected_at),
    cookie_expires = GREATEST(e.cookie_expires, EXCLUDED.cookie_expires),
    first_seen     = LEAST(e.first_seen, EXCLUDED.first_seen),
    last_seen      = now()
RETURNING
    e.id,
    (e.xmax = 0) AS inserted,
    e.infected_at,
    e.portal,
    e.status,
    (SELECT old.infected_at FROM exposures AS old WHERE old.id = e.id) AS old_infected_at,
    (SELECT old.portal FROM exposures AS old WHERE old.id = e.id) AS old_portal
