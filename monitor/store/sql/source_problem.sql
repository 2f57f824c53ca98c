-- Remember why part of a source was skipped (corrupt member, bomb, unreadable file).
INSERT INTO source_problems (source_id, origin, reason) VALUES ($1, $2, $3)
