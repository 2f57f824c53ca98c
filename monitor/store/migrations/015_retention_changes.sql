-- 015: retention and the SIEM change cursor.
--
-- Retention: a purged exposure is deleted with its sightings and alerts, but the audit trail
-- about it (containment steps, containments, lifecycle transitions) stays, without personal
-- data: those rows lose their link to the exposure (exposure_id NULL) and keep the exposure's
-- fingerprint instead; logins and directory ids are cleared and free texts redacted by
-- credwatch_redact.
ALTER TABLE actions ADD COLUMN exposure_fp text;
ALTER TABLE actions ALTER COLUMN exposure_id DROP NOT NULL;
ALTER TABLE actions DROP CONSTRAINT actions_exposure_id_fkey;
ALTER TABLE actions ADD CONSTRAINT actions_exposure_id_fkey
    FOREIGN KEY (exposure_id) REFERENCES exposures (id) ON DELETE SET NULL;

ALTER TABLE transitions ADD COLUMN exposure_fp text;
ALTER TABLE transitions ALTER COLUMN exposure_id DROP NOT NULL;
ALTER TABLE transitions DROP CONSTRAINT transitions_exposure_id_fkey;
ALTER TABLE transitions ADD CONSTRAINT transitions_exposure_id_fkey
    FOREIGN KEY (exposure_id) REFERENCES exposures (id) ON DELETE SET NULL;

ALTER TABLE containments ADD COLUMN exposure_fp text;
ALTER TABLE containments ALTER COLUMN exposure_id DROP NOT NULL;
ALTER TABLE containments ALTER COLUMN login DROP NOT NULL;
ALTER TABLE containments DROP CONSTRAINT containments_exposure_id_fkey;
-- A containment still waiting when its exposure is purged is withdrawn: never run, kept as a fact.
ALTER TABLE containments DROP CONSTRAINT containments_status_check;
ALTER TABLE containments ADD CONSTRAINT containments_status_check
    CHECK (status IN ('pending', 'awaiting_approval', 'done', 'failed', 'rejected', 'withdrawn'));
ALTER TABLE containments ADD CONSTRAINT containments_exposure_id_fkey
    FOREIGN KEY (exposure_id) REFERENCES exposures (id) ON DELETE SET NULL;

-- `t` with every occurrence of each non-empty needle (any case) replaced by `tag`.
CREATE FUNCTION credwatch_redact(t text, needles text[], tag text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    needle text;
BEGIN
    IF t IS NULL THEN
        RETURN NULL;
    END IF;
    FOREACH needle IN ARRAY needles LOOP
        IF needle IS NOT NULL AND length(needle) >= 3 THEN
            t := regexp_replace(
                t, regexp_replace(needle, '([^A-Za-z0-9 ])', '\\\1', 'g'), tag, 'gi'
            );
        END IF;
    END LOOP;
    RETURN t;
END
$$;

-- The change cursor: every insert or update of an exposure (a new sighting updates it too)
-- stamps it with the writing transaction's id. An export reads the changes of the transactions
-- older than its snapshot's horizon (all of them finished), so a change committed late by an
-- old transaction is never skipped, and each change is read by exactly one export.
ALTER TABLE exposures ADD COLUMN change_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX exposures_change ON exposures (change_xid, id);

CREATE FUNCTION credwatch_stamp_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_xid := pg_current_xact_id();
    RETURN NEW;
END
$$;

CREATE TRIGGER exposures_change BEFORE UPDATE ON exposures
    FOR EACH ROW EXECUTE FUNCTION credwatch_stamp_change();

-- Retention reads old rows by their time.
CREATE INDEX sightings_seen ON sightings (seen_at);
CREATE INDEX source_problems_created ON source_problems (created_at);
