-- Mark an alert delivered (with the channel's message reference for threading); releases the lease.
UPDATE alerts SET sent_at = now(), ref = $2, attempts = attempts + 1, last_error = NULL,
       leased_until = NULL
WHERE id = $1
