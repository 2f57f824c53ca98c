-- The migrations this database has applied.
SELECT version FROM schema_migrations
