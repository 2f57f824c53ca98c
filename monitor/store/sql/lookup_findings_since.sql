-- A page of what a lookup's units found, after finding `$2`, in id order.
SELECT id, line, nth, identity, kind, host, login, url, infected_at, family, country, machine, origin
FROM lookup_findings WHERE lookup_id = $1 AND id > $2 ORDER BY id LIMIT $3
