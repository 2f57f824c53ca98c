-- The units of lookups whose rows are swept.
DELETE FROM lookup_units WHERE lookup_id = ANY($1::bigint[])
