-- Mark an alert delivered (with the channel's message reference for threading).
UPDATE alerts SET sent_at = now(), ref = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1
