-- An ad-hoc lookup begins: who, which domain, over which paths.
INSERT INTO lookups (actor, domain, scanned, paths, since)
VALUES ($1, $2, $3, $4, $5)
RETURNING id
