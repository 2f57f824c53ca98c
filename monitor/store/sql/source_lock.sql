-- Try to take the session lock on a source identity (one reader per dropped file in the cluster).
SELECT pg_try_advisory_lock(hashtextextended($1, 0))
