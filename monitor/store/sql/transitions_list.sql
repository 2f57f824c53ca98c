-- An exposure's lifecycle history, oldest first.
SELECT id, from_state, to_state, decided_by, reason, created_at
FROM transitions WHERE exposure_id = $1 ORDER BY id
