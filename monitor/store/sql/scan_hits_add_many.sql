-- Report hits of scan $1 once each (a unit run again after a lost lease reports nothing twice).
INSERT INTO scan_hits (scan_id, exposure_id, origin, line, row)
SELECT $1, v.exposure_id, v.origin, v.line, v.row::jsonb
FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::text[])
     WITH ORDINALITY AS v(exposure_id, origin, line, row, ord)
ORDER BY v.ord
ON CONFLICT (scan_id, exposure_id, origin, line) DO NOTHING
