-- The change cursor's horizon: every transaction with a smaller id has finished, so the exposures
-- it changed are all visible to this snapshot and no later commit can add to them.
SELECT pg_snapshot_xmin(pg_current_snapshot())::text
