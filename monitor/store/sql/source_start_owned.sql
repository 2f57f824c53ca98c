-- Open a source run read by one process (host:pid:start), so a later start can tell it was
-- interrupted; returns its id.
INSERT INTO sources (kind, location, identity, owner) VALUES ($1, $2, $3, $4) RETURNING id
