-- The findings of lookups whose rows are swept.
DELETE FROM lookup_findings WHERE lookup_id = ANY($1::bigint[])
