-- Queue one alert per (exposure, channel, event, key): a repeat is ignored, so nothing is sent twice.
INSERT INTO alerts (exposure_id, channel, event, event_key, origin, summary)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (exposure_id, channel, event, event_key) DO NOTHING
RETURNING id
