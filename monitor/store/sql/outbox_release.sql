-- Give back claimed alerts that were not tried (the round ended early): due again at once, with
-- no attempt counted. One already recorded keeps its record.
UPDATE alerts SET leased_until = NULL
WHERE id = ANY($1::bigint[]) AND sent_at IS NULL
