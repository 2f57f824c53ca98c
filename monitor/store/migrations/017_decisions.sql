-- 017: a human's approval or rejection of a containment is part of the audit trail: an
-- `actions` row (step `approval`, outcome `approved` or `rejected`) with who decided and why.
ALTER TABLE actions DROP CONSTRAINT actions_outcome_check;
ALTER TABLE actions ADD CONSTRAINT actions_outcome_check
    CHECK (outcome IN ('done', 'dry_run', 'not_found', 'failed', 'skipped', 'started',
                       'approved', 'rejected'));
