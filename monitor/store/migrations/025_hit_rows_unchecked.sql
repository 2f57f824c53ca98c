-- 025: the rows written for every hit (a sighting, its alerts, the scan's report row) no longer
-- carry foreign keys. Each key was checked row by row, locking the exposure or the source it
-- names: about a fifth of the server's work per new hit. The writer names only the exposures
-- its own upsert returned and the source it started, in the same transaction, and the store
-- deletes an exposure's sightings, alerts and report rows with it (purge_exposures.sql), after
-- purge_pick.sql has locked it. Sources are never deleted.
ALTER TABLE sightings DROP CONSTRAINT sightings_exposure_id_fkey;
ALTER TABLE sightings DROP CONSTRAINT sightings_source_id_fkey;
ALTER TABLE alerts DROP CONSTRAINT alerts_exposure_id_fkey;
ALTER TABLE scan_hits DROP CONSTRAINT scan_hits_exposure_id_fkey;
