-- Mark alerts delivered by one post ($1) with the channel's message reference for threading and
-- what the channel said (e.g. a refused recipient); releases their leases. Then the leak clock:
-- the first delivered alert of an exposure marks it alerted, once; returns (first seen, alerted,
-- contained) of each exposure alerted here for the first time.
-- One statement, run on its own after each post (one round trip, its own transaction): its
-- commit returns without waiting for the disk (synchronous_commit off for this transaction
-- only; PostgreSQL writes it within a fraction of a second). A killed credwatch process loses
-- nothing, the server has the commit; a crash of the database server right after it may make a
-- delivery repeat, never one go missing.
WITH unflushed AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true)),
sent AS (
    UPDATE alerts SET sent_at = now(), ref = $2, attempts = attempts + 1, last_error = NULL,
           leased_until = NULL, detail = $3
    WHERE id = ANY($1::bigint[]) AND EXISTS (SELECT FROM unflushed)
    RETURNING exposure_id
)
UPDATE exposures e SET alerted_at = now()
FROM (SELECT DISTINCT exposure_id FROM sent) a
WHERE e.id = a.exposure_id AND e.alerted_at IS NULL
RETURNING e.first_seen, e.alerted_at, e.contained_at
