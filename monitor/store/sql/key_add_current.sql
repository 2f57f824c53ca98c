-- Make a key current (new, or a previous key brought back).
INSERT INTO fingerprint_keys (key_id, check_value, role) VALUES ($1, $2, 'current')
ON CONFLICT (key_id) DO UPDATE SET role = 'current', retired_at = NULL
