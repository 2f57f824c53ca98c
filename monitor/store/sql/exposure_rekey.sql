-- An exposure fingerprinted under a retired key takes its fingerprints under the current key, so
-- the upsert that follows finds it: the exposure keeps its identity across a key rotation.
UPDATE exposures SET fingerprint = $1, secret_fp = $2
WHERE fingerprint = ANY($3::text[])
  AND NOT EXISTS (SELECT 1 FROM exposures AS cur WHERE cur.fingerprint = $1)
