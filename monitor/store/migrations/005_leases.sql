-- 005: alerts and containments are claimed with a lease. A claim sets `leased_until` and commits;
-- the notifier or responder then runs with no transaction open; its outcome is recorded in a
-- second short transaction that clears the lease. A worker that dies in between leaves the row
-- held until the lease runs out, then claimable again: never lost, never redone before that.
ALTER TABLE alerts ADD COLUMN leased_until timestamptz;
ALTER TABLE containments ADD COLUMN leased_until timestamptz;
