-- 019: the audit trail of ad-hoc domain lookups. A lookup stores nothing it found (no exposure,
-- sighting, alert or source): only who asked about which domain, when, over which paths, and
-- how many results it gave. The row is written when the lookup starts and completed when it
-- ends, so a lookup that was interrupted is still on record.
CREATE TABLE lookups (
    id          bigserial   PRIMARY KEY,
    actor       text        NOT NULL,               -- $CREDWATCH_ACTOR, else the OS user
    domain      text        NOT NULL,
    scanned     boolean     NOT NULL,               -- the dump library was read
    paths       text[]      NOT NULL DEFAULT '{}',  -- what was read
    since       timestamptz,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    counts      jsonb                               -- result counts (no login, no secret)
);
CREATE INDEX lookups_domain ON lookups (domain);
CREATE INDEX lookups_started ON lookups (started_at);
