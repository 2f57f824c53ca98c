-- A lookup unit's status ('queued', 'done', 'failed'); NULL when the lookup's rows are gone.
SELECT status FROM lookup_units WHERE lookup_id = $1 AND unit_no = $2
