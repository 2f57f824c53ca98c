-- Serialise the claim of a scheduled job's firing across the cluster, until the transaction ends.
SELECT pg_advisory_xact_lock(hashtextextended($1, 7))
