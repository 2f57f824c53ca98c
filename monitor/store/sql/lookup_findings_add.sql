-- What a lookup unit found (masked, no secret); a unit read again stores nothing twice.
INSERT INTO lookup_findings (lookup_id, unit_no, origin, line, nth, identity, kind, host, login,
                             url, infected_at, family, country, machine)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (lookup_id, md5(origin), line, nth) DO NOTHING
