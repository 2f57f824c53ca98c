-- When a step was last started for (exposure, provider): its effect after that time is ours.
SELECT max(created_at) FROM actions
WHERE exposure_id = $1 AND provider = $2 AND step = $3 AND outcome = 'started'
