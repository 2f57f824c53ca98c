-- Material new information ($2) reopens a resolved or dismissed exposure, audited as credwatch's;
-- one suppressed (by a rule or the policy: status 'dismissed') stays dismissed.
WITH old AS (
    SELECT id, lifecycle FROM exposures
    WHERE id = $1 AND lifecycle IN ('resolved', 'dismissed') AND status <> 'dismissed'
    FOR UPDATE
), moved AS (
    UPDATE exposures e SET lifecycle = 'open', lifecycle_at = now() FROM old WHERE e.id = old.id
)
INSERT INTO transitions (exposure_id, from_state, to_state, decided_by, reason)
SELECT id, lifecycle, 'open', 'credwatch', $2 FROM old
