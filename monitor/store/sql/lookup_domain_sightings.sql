-- Every sighting of the exposures whose host or login e-mail domain is the domain or under it,
-- with what the sighting says about the infected machine (an exposure without a sighting once).
SELECT e.fingerprint, e.kind, e.host, e.login, e.url, e.infected_at AS exposure_infected_at,
       s.origin, s.infected_at, s.victim_hash, s.family, s.country
FROM exposures e
LEFT JOIN sightings s ON s.exposure_id = e.id
WHERE e.host = $1 OR e.host LIKE $2 OR e.login_domain = $1 OR e.login_domain LIKE $2
ORDER BY e.id, s.id
