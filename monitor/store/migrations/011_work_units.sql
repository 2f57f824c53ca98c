-- 011: work units of a scan (a byte range of a text base, or a whole path) and the hits each
-- scan reported. The queue that carries the units to workers (PGQueuer's tables) is installed by
-- the migration step together with this file. A unit holds a path and offsets, never a secret.
CREATE TABLE work_units (
    id            bigserial PRIMARY KEY,
    scan_id       text        NOT NULL,
    source_id     bigint      NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    path          text        NOT NULL,
    start_at      bigint,                            -- NULL: the whole path is one unit
    stop_at       bigint,
    identity      text        NOT NULL,              -- the source identity the unit was cut from
    status        text        NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'done', 'failed')),
    lines         bigint      NOT NULL DEFAULT 0,
    bytes         bigint      NOT NULL DEFAULT 0,
    records       bigint      NOT NULL DEFAULT 0,
    matches       bigint      NOT NULL DEFAULT 0,
    problems      bigint      NOT NULL DEFAULT 0,
    skipped_lines bigint      NOT NULL DEFAULT 0,
    error         text,
    finished_at   timestamptz
);
CREATE INDEX work_units_scan ON work_units (scan_id, status);
CREATE INDEX work_units_source ON work_units (source_id);

-- What one scan reported, as the scan output shows it (hints only): written with the sighting,
-- so a unit run twice reports each hit once.
CREATE TABLE scan_hits (
    id          bigserial PRIMARY KEY,
    scan_id     text        NOT NULL,
    exposure_id bigint      NOT NULL REFERENCES exposures (id) ON DELETE CASCADE,
    origin      text        NOT NULL,
    line        bigint      NOT NULL DEFAULT 0,
    row         jsonb       NOT NULL,
    UNIQUE (scan_id, exposure_id, origin, line)
);
