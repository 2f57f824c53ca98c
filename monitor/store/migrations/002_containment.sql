-- 002: one containment per (exposure, identity provider), with its decision and progress.
CREATE TABLE containments (
    id           bigserial PRIMARY KEY,
    exposure_id  bigint      NOT NULL REFERENCES exposures (id) ON DELETE CASCADE,
    provider     text        NOT NULL,
    decision     text        NOT NULL CHECK (decision IN ('contain', 'block', 'approve')),
    dry_run      boolean     NOT NULL,
    status       text        NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'awaiting_approval', 'done', 'failed', 'rejected')),
    decided_by   text        NOT NULL,
    reason       text        NOT NULL DEFAULT '',
    login        text        NOT NULL,
    idp_user_id  text,
    attempts     integer     NOT NULL DEFAULT 0,
    next_attempt timestamptz NOT NULL DEFAULT now(),
    last_error   text,
    result       text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (exposure_id, provider)
);
CREATE INDEX containments_due ON containments (next_attempt, id) WHERE status = 'pending';
ALTER TABLE exposures ADD COLUMN status_reason text;
