-- The planned containments of exposures ($1, ids), one per identity provider, oldest first.
SELECT exposure_id, provider, decision, status, dry_run, attempts, last_error
FROM containments WHERE exposure_id = ANY($1::bigint[]) ORDER BY exposure_id, id
