-- A unit's status ('queued', 'done', 'failed'), NULL when unknown.
SELECT status FROM work_units WHERE id = $1
