-- Release the session lock on a source identity.
SELECT pg_advisory_unlock(hashtextextended($1, 0))
