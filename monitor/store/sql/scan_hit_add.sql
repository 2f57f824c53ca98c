-- Report a hit of a scan once (a unit run again after a lost lease reports nothing twice).
INSERT INTO scan_hits (scan_id, exposure_id, origin, line, row)
VALUES ($1, $2, $3, $4, $5::jsonb)
ON CONFLICT (scan_id, exposure_id, origin, line) DO NOTHING
