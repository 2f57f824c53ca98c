-- Each containment step's recorded outcome for exposures ($1, ids): `done` when it ever took
-- effect, else its latest attempt (`started` marks only a call in flight, not an outcome).
SELECT DISTINCT ON (exposure_id, provider, step) exposure_id, provider, step, outcome, detail
FROM actions WHERE exposure_id = ANY($1::bigint[]) AND outcome <> 'started'
ORDER BY exposure_id, provider, step, (outcome = 'done') DESC, id DESC
