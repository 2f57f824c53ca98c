-- Store a batch of hits in one statement: its exposures inserted or merged, then a sighting per
-- place (source $22).
--
-- Exposures ($1-$21): one row per fingerprint (the caller merged the hits of one fingerprint in
-- their order: the first hit's own columns, the merged ones as the ON CONFLICT rules below would
-- have left them hit after hit; `reasons` comes sorted and without repeats). Rows go in
-- fingerprint order, so two writers lock the exposures they share in the same order. A column
-- passed as NULL is NULL in every row (unnest pads it).
--
-- The latest date of each exposure's stealer files ($32, in the exposures' order) is kept as
-- the latest over its sightings (the freshness check doubts an infection date before it).
--
-- Sightings ($23-$31): one row per place, named by its exposure's fingerprint; the same place
-- twice is one sighting (the caller keeps the first of a place the batch holds twice).
--
-- Returns, per fingerprint, the exposure's id, whether it is new, its severity after the batch
-- and, for a known one, its infection date and portal before this statement (a sub-select sees
-- the table as it was before it; NULL when both are NULL after it, so were NULL before); then
-- one row per new place (exposure id, origin, line).
WITH v AS (
    SELECT * FROM unnest(
        $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::text[], $9::text[], $10::int[], $11::text[], $12::timestamptz[], $13::text[],
        $14::smallint[], $15::text[], $16::text[], $17::text[], $18::text[], $19::timestamptz[],
        $20::timestamptz[], $21::boolean[], $32::timestamptz[]
    ) AS v(
        fingerprint, secret_fp, kind, url, host, site, login, login_domain, secret_hint,
        secret_length, cookie_name, cookie_expires, reasons, severity, domain, portal, partner,
        account_login, infected_at, first_seen, first_seen_now, files_dated_at
    )
), up AS (
    INSERT INTO exposures AS e (
        fingerprint, secret_fp, kind, url, host, site, login, login_domain, secret_hint,
        secret_length, cookie_name, cookie_expires, reasons, severity, domain, portal, partner,
        account_login, infected_at, first_seen, last_seen, files_dated_at
    )
    SELECT
        v.fingerprint, v.secret_fp, v.kind, v.url, v.host, v.site, v.login, v.login_domain,
        v.secret_hint, v.secret_length, v.cookie_name, v.cookie_expires,
        string_to_array(v.reasons, ','), v.severity, v.domain, v.portal, v.partner,
        v.account_login, v.infected_at,
        LEAST(v.first_seen, CASE WHEN v.first_seen_now IS NOT FALSE THEN now() END), now(),
        v.files_dated_at
    FROM v
    ORDER BY v.fingerprint
    ON CONFLICT (fingerprint) DO UPDATE SET
        reasons        = CASE WHEN EXCLUDED.reasons <@ e.reasons THEN e.reasons ELSE ARRAY(
                             SELECT DISTINCT r FROM unnest(e.reasons || EXCLUDED.reasons) AS r
                             ORDER BY r) END,
        severity       = GREATEST(e.severity, EXCLUDED.severity),
        portal         = COALESCE(e.portal, EXCLUDED.portal),
        partner        = COALESCE(e.partner, EXCLUDED.partner),
        account_login  = COALESCE(e.account_login, EXCLUDED.account_login),
        domain         = COALESCE(e.domain, EXCLUDED.domain),
        infected_at    = GREATEST(e.infected_at, EXCLUDED.infected_at),
        cookie_expires = GREATEST(e.cookie_expires, EXCLUDED.cookie_expires),
        first_seen     = LEAST(e.first_seen, EXCLUDED.first_seen),
        last_seen      = now(),
        files_dated_at = GREATEST(e.files_dated_at, EXCLUDED.files_dated_at),
        change_xid     = pg_current_xact_id()
    RETURNING
        e.id,
        e.fingerprint,
        (e.xmax = 0) AS inserted,
        e.severity,
        CASE WHEN e.xmax <> 0 AND (e.infected_at IS NOT NULL OR e.portal IS NOT NULL) THEN
            (SELECT ROW(old.infected_at, old.portal) FROM exposures AS old WHERE old.id = e.id)
        END AS old
), seen AS (
    INSERT INTO sightings (
        exposure_id, source_id, origin, line, feed, url, infected_at, victim_hash, family,
        country
    )
    SELECT up.id, $22, s.origin, s.line, s.feed, s.url, s.infected_at, s.victim_hash, s.family,
           s.country
    FROM unnest(
        $23::text[], $24::text[], $25::bigint[], $26::text[], $27::text[], $28::timestamptz[],
        $29::text[], $30::text[], $31::text[]
    ) AS s(fingerprint, origin, line, feed, url, infected_at, victim_hash, family, country)
    JOIN up ON up.fingerprint = s.fingerprint
    ORDER BY up.id, s.origin, s.line
    ON CONFLICT (exposure_id, origin, line) DO NOTHING
    RETURNING exposure_id, origin, line
)
SELECT up.id, up.fingerprint, up.inserted, up.severity, up.old, NULL::text AS origin,
       NULL::bigint AS line
FROM up
UNION ALL
SELECT seen.exposure_id, NULL, NULL, NULL, NULL, seen.origin, seen.line FROM seen
