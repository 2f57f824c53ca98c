-- The newest migration applied (0 before the first).
SELECT coalesce(max(version), 0) FROM schema_migrations
