-- Keep the containments of exposures about to be purged ($1) as facts (provider, decision, who,
-- status, when) without personal data: no login, no directory id, texts redacted. One still
-- waiting is withdrawn: it will never run.
UPDATE containments c
SET exposure_fp = e.fingerprint,
    login = NULL,
    idp_user_id = NULL,
    status = CASE WHEN c.status IN ('pending', 'awaiting_approval') THEN 'withdrawn'
                  ELSE c.status END,
    reason = credwatch_redact(
        c.reason, ARRAY[e.login, e.account_login, e.url, c.login, c.idp_user_id],
        'fp:' || e.fingerprint
    ),
    last_error = credwatch_redact(
        c.last_error, ARRAY[e.login, e.account_login, e.url, c.login, c.idp_user_id],
        'fp:' || e.fingerprint
    ),
    result = credwatch_redact(
        c.result, ARRAY[e.login, e.account_login, e.url, c.login, c.idp_user_id],
        'fp:' || e.fingerprint
    ),
    leased_until = NULL,
    updated_at = now()
FROM exposures e
WHERE e.id = c.exposure_id AND e.id = ANY($1::bigint[])
