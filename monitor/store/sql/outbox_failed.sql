-- Keep a failed alert for later: count the attempt and push the next one back.
UPDATE alerts SET attempts = attempts + 1, last_error = $2,
       next_attempt = now() + make_interval(secs => $3)
WHERE id = $1
