-- Serialise claims on one channel for the rest of the transaction, so that two deliverers never
-- claim past each other's alerts (order per channel is kept across processes).
SELECT pg_advisory_xact_lock(hashtextextended('credwatch-outbox:' || $1, 0))
