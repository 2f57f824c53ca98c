-- A scan's hits after a given id, in the order they were written.
SELECT id, row::text AS row FROM scan_hits WHERE scan_id = $1 AND id > $2 ORDER BY id LIMIT $3
