-- 007: which HMAC key made the stored fingerprints. Only a check value (an HMAC of a constant
-- under the key) and a short key id derived from it are kept, never the key. One key is current;
-- keys retired by a rotation stay listed so the exposures they fingerprinted keep their identity.
CREATE TABLE fingerprint_keys (
    key_id      text        PRIMARY KEY,
    check_value text        NOT NULL UNIQUE,
    role        text        NOT NULL CHECK (role IN ('current', 'previous')),
    added_at    timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz
);
CREATE UNIQUE INDEX fingerprint_keys_one_current ON fingerprint_keys (role) WHERE role = 'current';
