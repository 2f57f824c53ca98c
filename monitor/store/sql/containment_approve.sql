-- A human approves (or rejects) the containments waiting for an exposure.
UPDATE containments SET status = $2, decided_by = $3, reason = reason || $4, updated_at = now(),
       next_attempt = now()
WHERE exposure_id = $1 AND status = 'awaiting_approval'
RETURNING id
