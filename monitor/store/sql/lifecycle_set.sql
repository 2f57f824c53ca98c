-- Move an exposure (locked by lifecycle_lock) from $2 to $3 and audit who ($4) and why ($5).
WITH moved AS (
    UPDATE exposures SET lifecycle = $3, lifecycle_at = now() WHERE id = $1 RETURNING id
)
INSERT INTO transitions (exposure_id, from_state, to_state, decided_by, reason)
SELECT id, $2, $3, $4, $5 FROM moved
RETURNING id
