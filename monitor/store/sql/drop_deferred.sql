-- An attempt ended in a fault of the machine (disk full, database gone): give the attempt back
-- and try again after the delay.
UPDATE drop_files SET
    attempts = greatest(attempts - 1, 0),
    last_error = $2,
    next_attempt = now() + make_interval(secs => $3),
    updated_at = now()
WHERE identity = $1
