-- Re-key, for a batch of hits, the exposures fingerprinted under a retired key: each takes its
-- fingerprints under the current key, so the upsert that follows finds it and the exposure keeps
-- its identity across a key rotation. One row per (hit, retired key), in the batch's order
-- ($4); one exposure at most takes a given new fingerprint, and none when it is already taken.
WITH cand AS (
    SELECT DISTINCT ON (v.new_fp) e.id, v.new_fp, v.secret_fp
    FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS v(old_fp, new_fp, secret_fp, ord)
    JOIN exposures AS e ON e.fingerprint = v.old_fp
    WHERE NOT EXISTS (SELECT 1 FROM exposures AS cur WHERE cur.fingerprint = v.new_fp)
    ORDER BY v.new_fp, v.ord
)
UPDATE exposures AS e SET fingerprint = cand.new_fp, secret_fp = cand.secret_fp
FROM cand
WHERE e.id = cand.id
