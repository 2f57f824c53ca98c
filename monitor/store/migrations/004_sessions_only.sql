-- 004: a stolen session cookie is contained by revoking sessions only (the password did not leak).
ALTER TABLE containments ADD COLUMN sessions_only boolean NOT NULL DEFAULT false;
