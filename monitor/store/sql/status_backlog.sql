-- Pending work: alerts not yet delivered per channel, containments waiting, failures.
SELECT
  (SELECT coalesce(json_object_agg(channel, n), '{}'::json) FROM
     (SELECT channel, count(*) AS n FROM alerts WHERE sent_at IS NULL AND dead_at IS NULL GROUP BY channel) a)::text AS outbox,
  (SELECT extract(epoch FROM now() - min(created_at)) FROM alerts WHERE sent_at IS NULL AND dead_at IS NULL) AS outbox_lag,
  (SELECT count(*) FROM alerts WHERE dead_at IS NOT NULL) AS alerts_dead,
  (SELECT count(*) FROM containments WHERE status = 'pending') AS containments_pending,
  (SELECT count(*) FROM containments WHERE status = 'awaiting_approval') AS awaiting_approval,
  (SELECT count(*) FROM containments WHERE status = 'failed') AS containments_failed,
  (SELECT count(*) FROM sources WHERE status = 'failed') AS sources_failed,
  (SELECT count(*) FROM exposures) AS exposures,
  (SELECT count(*) FROM exposures WHERE status = 'new') AS exposures_open,
  (SELECT count(*) FROM alerts WHERE sent_at IS NOT NULL) AS alerts_sent,
  (SELECT count(*) FROM actions) AS actions,
  (SELECT coalesce(sum(lines), 0) FROM sources) AS lines_ingested,
  (SELECT count(*) FROM source_problems) AS problems,
  (SELECT count(*) FROM drop_files WHERE quarantined_at IS NOT NULL) AS quarantined
