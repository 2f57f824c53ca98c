-- Set an exposure's status and why.
UPDATE exposures SET status = $2, status_reason = $3 WHERE id = $1
