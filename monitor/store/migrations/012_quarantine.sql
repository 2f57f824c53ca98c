-- 012: dropped files that failed to read: attempts, back-off, and the quarantine.
-- A file is counted an attempt when a reader starts on it; an attempt that ends in a fault of
-- the file backs off, and the last allowed one quarantines it with its reason. A fault of the
-- machine (disk full, database gone) gives the attempt back. A file read to the end leaves no
-- row (its source is `done`).
CREATE TABLE drop_files (
    identity       text        PRIMARY KEY,          -- the source identity (path, size, mtime)
    location       text        NOT NULL,
    attempts       integer     NOT NULL DEFAULT 1,
    next_attempt   timestamptz NOT NULL DEFAULT now(),
    last_error     text,
    quarantined_at timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX drop_files_quarantined ON drop_files (quarantined_at) WHERE quarantined_at IS NOT NULL;
