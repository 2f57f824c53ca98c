-- Steps that succeeded for (exposure, provider).
SELECT DISTINCT step FROM actions WHERE exposure_id = $1 AND provider = $2 AND outcome = 'done'
