-- How many sources were left unfinished by a process that stopped (for `credwatch status`).
SELECT count(*) FROM sources WHERE status = 'interrupted'
