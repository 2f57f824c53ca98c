-- Each containment step's recorded outcome for an exposure: `done` when it ever took effect,
-- else its latest attempt (`started` marks only a call in flight, not an outcome).
SELECT DISTINCT ON (provider, step) provider, step, outcome, detail
FROM actions WHERE exposure_id = $1 AND outcome <> 'started'
ORDER BY provider, step, (outcome = 'done') DESC, id DESC
