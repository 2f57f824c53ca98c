-- Store a containment run's outcome and release its lease.
UPDATE containments SET status = $2, attempts = attempts + 1, last_error = $3, result = $4,
       next_attempt = now() + make_interval(secs => $5), updated_at = now(), leased_until = NULL
WHERE id = $1
