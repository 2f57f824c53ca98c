-- Claim due containments; concurrent runners skip rows another one holds.
SELECT c.*, e.infected_at, e.first_seen
FROM containments c JOIN exposures e ON e.id = c.exposure_id
WHERE c.status = 'pending' AND c.next_attempt <= now()
ORDER BY c.id
LIMIT $1
FOR UPDATE OF c SKIP LOCKED
