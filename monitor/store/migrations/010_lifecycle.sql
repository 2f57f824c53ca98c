-- 010: the exposure lifecycle a human drives (open → acknowledged → resolved, or dismissed;
-- reopened), kept apart from `status` (what containment did). Every transition is audited with
-- who and why. Suppression rules (by login, host pattern or partner) live in the database so
-- `credwatch suppress` can change them without editing the config file.
ALTER TABLE exposures ADD COLUMN lifecycle text NOT NULL DEFAULT 'open'
    CHECK (lifecycle IN ('open', 'acknowledged', 'resolved', 'dismissed'));
ALTER TABLE exposures ADD COLUMN lifecycle_at timestamptz NOT NULL DEFAULT now();
UPDATE exposures SET lifecycle = 'dismissed' WHERE status = 'dismissed';

CREATE TABLE transitions (
    id          bigserial PRIMARY KEY,
    exposure_id bigint      NOT NULL REFERENCES exposures (id) ON DELETE CASCADE,
    from_state  text        NOT NULL,
    to_state    text        NOT NULL,
    decided_by  text        NOT NULL,
    reason      text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transitions_exposure ON transitions (exposure_id, id);

CREATE TABLE suppressions (
    id         bigserial PRIMARY KEY,
    field      text        NOT NULL CHECK (field IN ('login', 'host', 'partner')),
    pattern    text        NOT NULL,
    reason     text        NOT NULL,
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (field, pattern)
);
