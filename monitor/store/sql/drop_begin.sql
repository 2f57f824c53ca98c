-- Count an attempt at a dropped file unless it is quarantined or backing off; returns the
-- attempts so far (this one included), or no row when it is not due.
INSERT INTO drop_files AS d (identity, location) VALUES ($1, $2)
ON CONFLICT (identity) DO UPDATE SET attempts = d.attempts + 1, updated_at = now()
    WHERE d.quarantined_at IS NULL AND d.next_attempt <= now()
RETURNING attempts
