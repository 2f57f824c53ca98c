-- What the latest source runs skipped: a count per reason, with its first few origins.
WITH recent AS (SELECT id FROM sources ORDER BY id DESC LIMIT $1)
SELECT p.reason, count(*) AS n, (array_agg(p.origin ORDER BY p.id))[1:$2] AS origins
FROM source_problems AS p
WHERE p.source_id IN (SELECT id FROM recent)
GROUP BY p.reason
ORDER BY n DESC, p.reason
