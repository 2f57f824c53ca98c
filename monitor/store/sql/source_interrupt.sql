-- Mark sources whose reading process is gone: they stop looking as if they still ran.
UPDATE sources SET status = 'interrupted', finished_at = now(), error = $2
WHERE id = ANY($1::bigint[]) AND status = 'running'
