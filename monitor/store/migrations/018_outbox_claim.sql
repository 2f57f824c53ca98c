-- 018: what claiming alerts needs, on the alert's own row, so that a claim reads only the head
-- of its channel's queue instead of every pending alert: the exposure's severity (copied when
-- the alert is queued, unless the insert gives it, and kept equal to the exposure's while the
-- alert is pending, by the triggers below), and indexes over the pending alerts: per channel in queue order, per channel
-- and severity (urgent claims), and per exposure and channel (what holds an alert back).
ALTER TABLE alerts ADD COLUMN severity smallint;
UPDATE alerts AS a SET severity = e.severity FROM exposures AS e WHERE e.id = a.exposure_id;
ALTER TABLE alerts ALTER COLUMN severity SET NOT NULL;

CREATE FUNCTION alerts_take_severity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT e.severity INTO NEW.severity FROM exposures AS e WHERE e.id = NEW.exposure_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER alerts_take_severity BEFORE INSERT ON alerts
    FOR EACH ROW WHEN (NEW.severity IS NULL) EXECUTE FUNCTION alerts_take_severity();

CREATE FUNCTION exposures_pass_severity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE alerts SET severity = NEW.severity
    WHERE exposure_id = NEW.id AND sent_at IS NULL AND dead_at IS NULL;
    RETURN NULL;
END
$$;
CREATE TRIGGER exposures_pass_severity AFTER UPDATE OF severity ON exposures
    FOR EACH ROW WHEN (NEW.severity IS DISTINCT FROM OLD.severity)
    EXECUTE FUNCTION exposures_pass_severity();

DROP INDEX alerts_pending;
CREATE INDEX alerts_queue ON alerts (channel, id) WHERE sent_at IS NULL AND dead_at IS NULL;
CREATE INDEX alerts_queue_severity ON alerts (channel, severity, id)
    WHERE sent_at IS NULL AND dead_at IS NULL;
CREATE INDEX alerts_queue_exposure ON alerts (exposure_id, channel, id)
    WHERE sent_at IS NULL AND dead_at IS NULL;
