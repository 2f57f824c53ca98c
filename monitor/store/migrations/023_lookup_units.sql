-- 023: an ad-hoc lookup read by workers (`credwatch lookup --scan --workers N` or `--cluster`).
-- Transient: the lookup's units and what they found, handed back to the lookup command, which
-- folds them into its answer and deletes them. A lookup that died leaves its rows; the next
-- lookup, and `credwatch purge`, delete those of lookups finished or started a day ago or more.
-- Nothing here is a secret: logins, hosts, masked URLs, machine facts, and a fingerprint of
-- each credential under the lookup's own key (what counts distinct credentials).
CREATE TABLE lookup_units (
    lookup_id   bigint      NOT NULL REFERENCES lookups (id) ON DELETE CASCADE,
    unit_no     integer     NOT NULL,
    status      text        NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'done', 'failed')),
    lines       bigint      NOT NULL DEFAULT 0,
    bytes       bigint      NOT NULL DEFAULT 0,
    records     bigint      NOT NULL DEFAULT 0,
    problems    bigint      NOT NULL DEFAULT 0,
    error       text,
    finished_at timestamptz,
    PRIMARY KEY (lookup_id, unit_no)
);

CREATE TABLE lookup_findings (
    id          bigserial   PRIMARY KEY,
    lookup_id   bigint      NOT NULL REFERENCES lookups (id) ON DELETE CASCADE,
    unit_no     integer     NOT NULL,
    origin      text        NOT NULL,
    line        bigint      NOT NULL DEFAULT 0,
    nth         integer     NOT NULL,  -- the nth finding of this origin and line
    identity    text        NOT NULL,  -- keyed fingerprint, under the lookup's own key
    kind        text        NOT NULL,
    host        text        NOT NULL,
    login       text        NOT NULL,
    url         text        NOT NULL,  -- masked (safe_url)
    infected_at timestamptz,
    family      text,
    country     text,
    machine     text                   -- keyed hash of the machine id, under the lookup's key
);
-- A unit read again after its worker died finds the same things at the same places: stored once.
CREATE UNIQUE INDEX lookup_findings_once ON lookup_findings (lookup_id, md5(origin), line, nth);
