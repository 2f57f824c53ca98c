-- Mark alerts delivered by one post ($1) with the channel's message reference for threading and
-- what the channel said (e.g. a refused recipient); releases their leases. Run on its own (its
-- own transaction), after each post: its commit returns without waiting for the disk
-- (synchronous_commit off for this transaction only; PostgreSQL writes it within a fraction of a
-- second). A killed credwatch process loses nothing, the server has the commit; a crash of the
-- database server right after it may make a delivery repeat, never one go missing.
WITH unflushed AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true))
UPDATE alerts SET sent_at = now(), ref = $2, attempts = attempts + 1, last_error = NULL,
       leased_until = NULL, detail = $3
WHERE id = ANY($1::bigint[]) AND EXISTS (SELECT FROM unflushed)
