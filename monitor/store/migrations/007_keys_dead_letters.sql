-- 007: which HMAC key made the stored fingerprints, and dead-lettered alerts.
-- Of a key only a check value (an HMAC of a constant under it) and a short key id cut from that
-- are kept, never the key. One key is current; keys retired by a rotation stay listed so the
-- exposures they fingerprinted keep their identity.
CREATE TABLE fingerprint_keys (
    key_id      text        PRIMARY KEY,
    check_value text        NOT NULL UNIQUE,
    role        text        NOT NULL CHECK (role IN ('current', 'previous')),
    added_at    timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz
);
CREATE UNIQUE INDEX fingerprint_keys_one_current ON fingerprint_keys (role) WHERE role = 'current';

-- An alert whose attempts reach the cap is dead-lettered: kept, never tried again, counted in
-- the status for the admins. `detail` keeps what the channel said (refused recipients, ...).
ALTER TABLE alerts ADD COLUMN dead_at timestamptz;
ALTER TABLE alerts ADD COLUMN detail text;
DROP INDEX alerts_pending;
CREATE INDEX alerts_pending ON alerts (channel, next_attempt, id)
    WHERE sent_at IS NULL AND dead_at IS NULL;
