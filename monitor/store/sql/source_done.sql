-- Has a source with this identity been read to the end already?
SELECT id FROM sources WHERE identity = $1 AND status = 'done' LIMIT 1
