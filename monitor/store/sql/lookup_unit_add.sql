-- Record one unit of an ad-hoc lookup read by workers.
INSERT INTO lookup_units (lookup_id, unit_no) VALUES ($1, $2)
