-- Audit one containment step; a step already done for the pair is never recorded as done twice.
INSERT INTO actions (exposure_id, provider, step, outcome, retryable, decided_by, detail, request_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (exposure_id, provider, step) WHERE outcome = 'done' DO NOTHING
