-- Remember why part of a source was skipped, once per origin and reason (a unit run again
-- after a lost lease records nothing twice).
INSERT INTO source_problems (source_id, origin, reason) VALUES ($1, $2, $3)
ON CONFLICT (source_id, md5(origin), md5(reason)) DO NOTHING
