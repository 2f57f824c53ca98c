-- Record the first key as current, unless a current key is already recorded (a racing process).
INSERT INTO fingerprint_keys (key_id, check_value, role)
SELECT $1, $2, 'current'
WHERE NOT EXISTS (SELECT 1 FROM fingerprint_keys WHERE role = 'current')
ON CONFLICT DO NOTHING
