-- Keep a failed alert for later: count the attempt, push the next one back, release the lease.
-- The attempt that reaches the cap ($4) dead-letters it instead: kept, never tried again.
UPDATE alerts SET attempts = attempts + 1, last_error = $2,
       next_attempt = now() + make_interval(secs => $3), leased_until = NULL,
       dead_at = CASE WHEN attempts + 1 >= $4 THEN now() END
WHERE id = $1
RETURNING dead_at IS NOT NULL AS dead
