-- Keep a failed alert for later: count the attempt, push the next one back, release the lease.
UPDATE alerts SET attempts = attempts + 1, last_error = $2,
       next_attempt = now() + make_interval(secs => $3), leased_until = NULL
WHERE id = $1
