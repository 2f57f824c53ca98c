-- Mark an alert delivered (with the channel's message reference for threading and what the
-- channel said, e.g. a refused recipient); releases the lease.
UPDATE alerts SET sent_at = now(), ref = $2, attempts = attempts + 1, last_error = NULL,
       leased_until = NULL, detail = $3
WHERE id = $1
