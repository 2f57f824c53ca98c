-- An ad-hoc lookup ended: its result counts.
UPDATE lookups SET finished_at = now(), counts = $2::jsonb WHERE id = $1
