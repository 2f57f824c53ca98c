-- 024: line counts at line starts of a text base, shared by the processes that read its ranges.
-- A range unit numbers its lines as in the whole file, so it needs how many lines come before
-- its first byte. A process that has read a range publishes the count at the range's end; a
-- process about to number another range starts from the nearest published point instead of
-- counting the newlines from the head of the file. `identity` is the file's (path, size, mtime):
-- a changed file is another identity. Nothing here is a secret.
CREATE TABLE line_marks (
    identity    text        NOT NULL,
    at_byte     bigint      NOT NULL CHECK (at_byte >= 0),
    lines       bigint      NOT NULL CHECK (lines >= 0),
    marked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (identity, at_byte)
);
