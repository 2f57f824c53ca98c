-- Keep the containment steps of exposures about to be purged ($1) as facts without personal data:
-- the exposure's fingerprint instead of its id, its login, account, URL and directory ids
-- redacted from the detail.
UPDATE actions a
SET exposure_fp = e.fingerprint,
    detail = credwatch_redact(
        a.detail,
        ARRAY[e.login, e.account_login, e.url] || ARRAY(
            SELECT c.idp_user_id FROM containments c WHERE c.exposure_id = e.id
        ),
        'fp:' || e.fingerprint
    )
FROM exposures e
WHERE e.id = a.exposure_id AND e.id = ANY($1::bigint[])
