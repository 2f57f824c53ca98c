-- Open a source run; returns its id.
INSERT INTO sources (kind, location, identity) VALUES ($1, $2, $3) RETURNING id
