-- Serialise the completion of a source's units (the last one closes the source).
SELECT id FROM sources WHERE id = $1 FOR UPDATE
