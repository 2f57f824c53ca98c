-- Exposures still open or acknowledged and not seen since the cut-off $1: kept until a human
-- closes them (purge never closes a case).
SELECT count(*) FROM exposures
WHERE last_seen < $1 AND lifecycle IN ('open', 'acknowledged') AND status <> 'dismissed'
