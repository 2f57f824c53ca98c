-- Where an exposure's containments stand, one row per identity provider.
SELECT provider, status, result, last_error, dry_run
FROM containments
WHERE exposure_id = $1
ORDER BY id
