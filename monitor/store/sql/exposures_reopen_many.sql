-- Material new information (reason $2[i]) reopens resolved or dismissed exposures ($1[i]),
-- audited as credwatch's; one suppressed (by a rule or the policy: status 'dismissed') stays
-- dismissed.
WITH v AS (
    SELECT * FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS v(id, reason, ord)
), old AS (
    SELECT e.id, e.lifecycle, v.reason, v.ord FROM exposures AS e JOIN v ON v.id = e.id
    WHERE e.lifecycle IN ('resolved', 'dismissed') AND e.status <> 'dismissed'
    FOR UPDATE OF e
), moved AS (
    UPDATE exposures e SET lifecycle = 'open', lifecycle_at = now() FROM old WHERE e.id = old.id
)
INSERT INTO transitions (exposure_id, from_state, to_state, decided_by, reason)
SELECT id, lifecycle, 'open', 'credwatch', reason FROM old ORDER BY ord
