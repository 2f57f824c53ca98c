-- How many dropped files are quarantined.
SELECT count(*) FROM drop_files WHERE quarantined_at IS NOT NULL
