-- An exposure's planned containments, one per identity provider, oldest first.
SELECT provider, decision, status, dry_run, attempts, last_error
FROM containments WHERE exposure_id = $1 ORDER BY id
