-- A human's decision on containments that waited for approval, audited once per provider.
INSERT INTO actions (exposure_id, provider, step, outcome, retryable, decided_by, detail)
SELECT exposure_id, provider, 'approval', $2, false, $3, $4
FROM containments
WHERE id = ANY($1::bigint[])
