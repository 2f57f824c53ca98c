-- 020: nothing left behind, nothing recorded twice.
-- A source read in one process names its owner (host, pid and the pid's start time), so the
-- next start on that host marks the sources of a process that is gone `interrupted` instead of
-- leaving them `running` forever. Sources whose units are on the shared queue have no owner:
-- the queue resumes them.
ALTER TABLE sources ADD COLUMN owner text;
ALTER TABLE sources DROP CONSTRAINT IF EXISTS sources_status_check;
ALTER TABLE sources ADD CONSTRAINT sources_status_check
    CHECK (status IN ('running', 'done', 'failed', 'interrupted'));
CREATE INDEX sources_running_owner ON sources (owner) WHERE status = 'running';

-- A problem is recorded once per source, origin and reason: a unit run again after a worker
-- died (or a poll retried) does not record its problems twice.
DELETE FROM source_problems AS p
USING source_problems AS q
WHERE p.source_id = q.source_id AND p.origin = q.origin AND p.reason = q.reason AND p.id > q.id;
CREATE UNIQUE INDEX source_problems_once ON source_problems (source_id, md5(origin), md5(reason));

-- A scheduled firing is one row per job and scheduled time (the cron's, not the clock's when
-- a process got to it), with the scan that carries its work.
ALTER TABLE scheduled_runs ADD COLUMN scan_id text;
