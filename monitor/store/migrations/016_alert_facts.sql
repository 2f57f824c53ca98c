-- 016: what alerts and partner reports tell, and the leak clock.
-- Hints reveal at most two characters and a length bucket (monitor.hint): stored hints of the
-- earlier form (first character, stars, last two) are rewritten to it, in exposures and in the
-- scan output rows. The same machine's other exposures are counted by its hashed id. An
-- exposure records when it was first alerted and when it was contained, once each: the leak
-- clock's moments, observed once per exposure.
UPDATE exposures SET secret_hint = CASE
    WHEN secret_length IS NULL OR secret_length < 0 THEN NULL
    WHEN secret_length = 0 THEN '…(0)'
    WHEN secret_length <= 7 THEN '…(1–7)'
    WHEN secret_length <= 11 THEN left(secret_hint, 1) || '…(8–11)'
    WHEN secret_length <= 15 THEN left(secret_hint, 1) || '…(12–15)'
    WHEN secret_length <= 23 THEN left(secret_hint, 1) || '…' || right(secret_hint, 1) || '(16–23)'
    ELSE left(secret_hint, 1) || '…' || right(secret_hint, 1) || '(24+)'
END
WHERE secret_hint IS NOT NULL AND secret_hint NOT LIKE '%…%';

UPDATE scan_hits h SET row = jsonb_set(h.row, '{secret_hint}', to_jsonb(e.secret_hint))
FROM exposures e
WHERE e.id = h.exposure_id AND e.secret_hint IS NOT NULL
  AND h.row ? 'secret_hint' AND jsonb_typeof(h.row -> 'secret_hint') = 'string';

CREATE INDEX sightings_victim ON sightings (victim_hash) WHERE victim_hash IS NOT NULL;

ALTER TABLE exposures ADD COLUMN alerted_at timestamptz;
ALTER TABLE exposures ADD COLUMN contained_at timestamptz;

-- Exposures alerted or contained before this migration keep their moments (not observed again).
UPDATE exposures e SET alerted_at = a.first_sent
FROM (SELECT exposure_id, min(sent_at) AS first_sent FROM alerts
      WHERE sent_at IS NOT NULL GROUP BY exposure_id) a
WHERE a.exposure_id = e.id;
UPDATE exposures e SET contained_at = c.done_at
FROM (SELECT exposure_id, min(updated_at) AS done_at FROM containments
      WHERE status = 'done' AND result IN ('contained', 'blocked') GROUP BY exposure_id) c
WHERE c.exposure_id = e.id AND e.status = 'contained';
