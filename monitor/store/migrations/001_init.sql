-- 001: exposures, sightings, sources, problems, actions, alert outbox.
-- No column ever holds a leaked password or cookie value: only HMAC fingerprints and masked hints.

CREATE TABLE sources (
    id            bigserial PRIMARY KEY,
    kind          text        NOT NULL,              -- file | dir | hibp | watch
    location      text        NOT NULL,              -- path as given, or API query
    identity      text        NOT NULL,              -- path + size + mtime (files), query (APIs)
    status        text        NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'done', 'failed')),
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    lines         bigint      NOT NULL DEFAULT 0,
    bytes         bigint      NOT NULL DEFAULT 0,
    records       bigint      NOT NULL DEFAULT 0,
    matches       bigint      NOT NULL DEFAULT 0,
    problems      bigint      NOT NULL DEFAULT 0,
    skipped_lines bigint      NOT NULL DEFAULT 0,
    error         text
);
CREATE INDEX sources_identity ON sources (identity, status);

CREATE TABLE source_problems (
    id         bigserial PRIMARY KEY,
    source_id  bigint      NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    origin     text        NOT NULL,
    reason     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX source_problems_source ON source_problems (source_id);

CREATE TABLE exposures (
    id             bigserial PRIMARY KEY,
    fingerprint    text        NOT NULL UNIQUE,      -- HMAC over kind, host, login, secret
    secret_fp      text,                             -- HMAC of the secret alone (reuse across sites)
    kind           text        NOT NULL CHECK (kind IN ('password', 'cookie', 'hash', 'account')),
    url            text        NOT NULL DEFAULT '',
    host           text        NOT NULL DEFAULT '',
    site           text        NOT NULL DEFAULT '',  -- registered domain of host
    login          text        NOT NULL DEFAULT '',
    login_domain   text        NOT NULL DEFAULT '',  -- e-mail domain of login
    secret_hint    text,
    secret_length  integer,
    cookie_name    text,
    cookie_expires timestamptz,
    reasons        text[]      NOT NULL,
    severity       smallint    NOT NULL CHECK (severity BETWEEN 1 AND 4),
    domain         text,
    portal         text,
    partner        text,
    account_login  text,
    infected_at    timestamptz,
    status         text        NOT NULL DEFAULT 'new'
                   CHECK (status IN ('new', 'contained', 'stale', 'dismissed', 'pending_approval')),
    first_seen     timestamptz NOT NULL DEFAULT now(),
    last_seen      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX exposures_host ON exposures (host text_pattern_ops);
CREATE INDEX exposures_login_domain ON exposures (login_domain text_pattern_ops);
CREATE INDEX exposures_site ON exposures (site);
CREATE INDEX exposures_login ON exposures (login);

CREATE TABLE sightings (
    id           bigserial PRIMARY KEY,
    exposure_id  bigint      NOT NULL REFERENCES exposures (id) ON DELETE CASCADE,
    source_id    bigint      REFERENCES sources (id) ON DELETE SET NULL,
    origin       text        NOT NULL,               -- dump.zip!PC1/Passwords.txt
    line         bigint      NOT NULL DEFAULT 0,      -- 0 when the source has no lines
    feed         text        NOT NULL,
    url          text        NOT NULL DEFAULT '',
    infected_at  timestamptz,
    victim_hash  text,                               -- HMAC of the machine id
    family       text,
    country      text,
    seen_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (exposure_id, origin, line)
);
CREATE INDEX sightings_source ON sightings (source_id);

CREATE TABLE actions (
    id          bigserial PRIMARY KEY,
    exposure_id bigint      NOT NULL REFERENCES exposures (id) ON DELETE CASCADE,
    provider    text        NOT NULL,
    step        text        NOT NULL,
    outcome     text        NOT NULL CHECK (outcome IN ('done', 'dry_run', 'not_found', 'failed', 'skipped')),
    retryable   boolean     NOT NULL DEFAULT false,
    decided_by  text        NOT NULL,
    detail      text        NOT NULL DEFAULT '',
    request_id  text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX actions_exposure ON actions (exposure_id, provider);
-- A step that succeeded is never repeated for the same exposure and provider.
CREATE UNIQUE INDEX actions_done_once ON actions (exposure_id, provider, step) WHERE outcome = 'done';

CREATE TABLE alerts (
    id            bigserial PRIMARY KEY,
    exposure_id   bigint      NOT NULL REFERENCES exposures (id) ON DELETE CASCADE,
    channel       text        NOT NULL,
    event         text        NOT NULL,
    event_key     text        NOT NULL DEFAULT '',   -- distinguishes repeated events (e.g. new portal)
    origin        text        NOT NULL DEFAULT '',
    summary       text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    next_attempt  timestamptz NOT NULL DEFAULT now(),
    attempts      integer     NOT NULL DEFAULT 0,
    sent_at       timestamptz,
    ref           text,                              -- channel message id (Slack ts) for threading
    last_error    text,
    UNIQUE (exposure_id, channel, event, event_key)
);
CREATE INDEX alerts_pending ON alerts (channel, next_attempt, id) WHERE sent_at IS NULL;
