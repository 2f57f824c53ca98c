-- Who last decided on an exposure's containment awaiting approval, and how: the audited decision,
-- else (decided before decisions were audited) the containment's own record.
SELECT outcome, decided_by, detail, at FROM (
    SELECT a.outcome, a.decided_by, a.detail, a.created_at AS at, 0 AS rank, a.id
    FROM actions a
    WHERE a.exposure_id = $1 AND a.step = 'approval'
    UNION ALL
    SELECT CASE WHEN c.status = 'rejected' THEN 'rejected' ELSE 'approved' END,
           c.decided_by, '', c.updated_at, 1, c.id
    FROM containments c
    WHERE c.exposure_id = $1 AND c.decision = 'approve' AND c.status <> 'awaiting_approval'
      AND c.decided_by <> 'policy'
) d
ORDER BY rank, id DESC
LIMIT 1
