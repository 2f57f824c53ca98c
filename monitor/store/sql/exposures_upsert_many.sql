-- Insert a batch's exposures or merge the batch's facts into them, one row per fingerprint (the
-- caller merged the hits of one fingerprint in their order: the first hit's own columns, the
-- merged ones as the ON CONFLICT rules below would have left them hit after hit). Rows go in
-- fingerprint order, so two writers lock the exposures they share in the same order.
-- Returns, per fingerprint, the row's id, whether it is new, and its infection date and portal
-- before this statement (a sub-select in RETURNING sees the table as it was before it).
INSERT INTO exposures AS e (
    fingerprint, secret_fp, kind, url, host, site, login, login_domain, secret_hint, secret_length,
    cookie_name, cookie_expires, reasons, severity, domain, portal, partner, account_login,
    infected_at, first_seen, last_seen, files_dated_at
)
SELECT
    v.fingerprint, v.secret_fp, v.kind, v.url, v.host, v.site, v.login, v.login_domain,
    v.secret_hint, v.secret_length, v.cookie_name, v.cookie_expires,
    ARRAY(SELECT DISTINCT r FROM unnest(string_to_array(v.reasons, ',')) AS r ORDER BY r),
    v.severity, v.domain, v.portal, v.partner, v.account_login, v.infected_at,
    LEAST(v.first_seen, CASE WHEN v.first_seen_now THEN now() END), now(), v.files_dated_at
FROM unnest(
    $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
    $8::text[], $9::text[], $10::int[], $11::text[], $12::timestamptz[], $13::text[],
    $14::smallint[], $15::text[], $16::text[], $17::text[], $18::text[], $19::timestamptz[],
    $20::timestamptz[], $21::boolean[], $22::timestamptz[]
) AS v(
    fingerprint, secret_fp, kind, url, host, site, login, login_domain, secret_hint,
    secret_length, cookie_name, cookie_expires, reasons, severity, domain, portal, partner,
    account_login, infected_at, first_seen, first_seen_now, files_dated_at
)
ORDER BY v.fingerprint
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
    last_seen      = now(),
    files_dated_at = GREATEST(e.files_dated_at, EXCLUDED.files_dated_at)
RETURNING
    e.id,
    e.fingerprint,
    (e.xmax = 0) AS inserted,
    (SELECT old.infected_at FROM exposures AS old WHERE old.id = e.id) AS old_infected_at,
    (SELECT old.portal FROM exposures AS old WHERE old.id = e.id) AS old_portal
