-- 006: an exposure is contained only when every step its kind needs took effect; otherwise it is
-- partially contained or needs a human. A step whose reply may be lost (a password reset) is
-- recorded as `started` before the call, so a retry recognises the provider's change as ours.
ALTER TABLE exposures DROP CONSTRAINT exposures_status_check;
ALTER TABLE exposures ADD CONSTRAINT exposures_status_check
    CHECK (status IN ('new', 'contained', 'partially_contained', 'needs_action', 'stale',
                      'dismissed', 'pending_approval'));
ALTER TABLE actions DROP CONSTRAINT actions_outcome_check;
ALTER TABLE actions ADD CONSTRAINT actions_outcome_check
    CHECK (outcome IN ('done', 'dry_run', 'not_found', 'failed', 'skipped', 'started'));
