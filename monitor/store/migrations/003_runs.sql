-- 003: scheduled runs claimed once per cluster (a slot is one firing of a cron job).
CREATE TABLE scheduled_runs (
    job        text        NOT NULL,
    slot       timestamptz NOT NULL,
    host       text        NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    PRIMARY KEY (job, slot)
);
