-- Claim the oldest due containments with a lease of $2 seconds (see migration 005); concurrent
-- runners skip rows another one is claiming, and a claimed row is not due again before its lease
-- runs out. The outcome is recorded by containment_update, which clears the lease.
UPDATE containments c SET leased_until = now() + make_interval(secs => $2)
FROM exposures e
WHERE e.id = c.exposure_id
  AND c.id IN (
      SELECT d.id FROM containments d
      WHERE d.status = 'pending' AND d.next_attempt <= now()
        AND (d.leased_until IS NULL OR d.leased_until <= now())
      ORDER BY d.id
      LIMIT $1
      FOR UPDATE SKIP LOCKED
  )
RETURNING c.id, c.exposure_id, c.provider, c.login, c.idp_user_id, c.dry_run, c.decided_by,
          c.sessions_only, c.attempts, e.infected_at, e.first_seen, e.host, e.portal,
          e.cookie_name, e.cookie_expires, e.files_dated_at
