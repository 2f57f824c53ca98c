-- Remove a suppression rule; returns its id when there was one.
DELETE FROM suppressions WHERE id = $1 RETURNING id
