-- Retire the current key (it becomes a previous key).
UPDATE fingerprint_keys SET role = 'previous', retired_at = now()
WHERE key_id = $1 AND role = 'current'
