-- 021: the archive's own dates. The date the stealer's own files in a victim folder carry (the
-- earliest plausible one per folder, the latest over an exposure's sightings): an infection date
-- before it comes from a wrong clock, and containment takes the first sighting instead.
ALTER TABLE exposures ADD COLUMN files_dated_at timestamptz;
