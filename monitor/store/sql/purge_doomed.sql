-- What deleting the exposures $1 takes with it (their sightings, alerts and scan hits, which
-- purge_exposures.sql deletes with them): counted before the delete.
SELECT (SELECT count(*) FROM sightings WHERE exposure_id = ANY($1::bigint[])) AS sightings,
       (SELECT count(*) FROM alerts WHERE exposure_id = ANY($1::bigint[])) AS alerts,
       (SELECT count(*) FROM scan_hits WHERE exposure_id = ANY($1::bigint[])) AS scan_hits
