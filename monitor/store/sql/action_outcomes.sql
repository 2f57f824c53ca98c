-- Containment steps recorded, per identity provider and outcome (the audit trail's totals).
SELECT provider, outcome, count(*) AS n FROM actions GROUP BY provider, outcome
