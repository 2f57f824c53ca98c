-- Sources still running that one named process was reading (not those of the shared queue).
SELECT id, owner FROM sources WHERE status = 'running' AND owner IS NOT NULL
