-- Exposures whose host or login e-mail domain is the domain or under it.
SELECT e.*, (SELECT count(*) FROM sightings s WHERE s.exposure_id = e.id) AS sightings
FROM exposures e
WHERE e.host = $1 OR e.host LIKE $2 OR e.login_domain = $1 OR e.login_domain LIKE $2
ORDER BY e.severity DESC, e.last_seen DESC, e.id
