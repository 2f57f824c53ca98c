-- The fingerprint keys this database knows, current first.
SELECT key_id, check_value, role FROM fingerprint_keys ORDER BY role = 'current' DESC, added_at
