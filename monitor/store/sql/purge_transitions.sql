-- Keep the lifecycle decisions about exposures about to be purged ($1) without personal data:
-- the fingerprint instead of the id, the login, account and URL redacted from the reason.
UPDATE transitions t
SET exposure_fp = e.fingerprint,
    reason = credwatch_redact(
        t.reason, ARRAY[e.login, e.account_login, e.url], 'fp:' || e.fingerprint
    )
FROM exposures e
WHERE e.id = t.exposure_id AND e.id = ANY($1::bigint[])
