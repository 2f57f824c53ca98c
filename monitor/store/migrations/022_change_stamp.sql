-- 022: a write that stamps the change cursor itself (the hit batch's upsert sets change_xid to
-- its transaction's id) spares the per-row trigger call; every other update of an exposure is
-- still stamped by the trigger, as before.
DROP TRIGGER exposures_change ON exposures;
CREATE TRIGGER exposures_change BEFORE UPDATE ON exposures
    FOR EACH ROW WHEN (NEW.change_xid IS NOT DISTINCT FROM OLD.change_xid)
    EXECUTE FUNCTION credwatch_stamp_change();
