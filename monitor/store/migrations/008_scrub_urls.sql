-- Scrub leaked URLs already stored: no userinfo, query, fragment or `;params`, token-looking path
-- segments masked (the same rule as monitor.normalize.safe_url, which cleans every new record).
CREATE FUNCTION credwatch_scrub_url(u text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    head text := '';
    rest text;
    auth text;
    path text := '';
    cut integer;
BEGIN
    rest := regexp_replace(btrim(u), '[?#].*$', '');
    cut := position('://' in rest);
    IF cut > 0 THEN
        head := substr(rest, 1, cut + 2);
        rest := substr(rest, cut + 3);
    END IF;
    rest := replace(rest, E'\\', '/');
    cut := position('/' in rest);
    IF cut > 0 THEN
        auth := substr(rest, 1, cut - 1);
        path := substr(rest, cut);
    ELSE
        auth := rest;
    END IF;
    auth := regexp_replace(regexp_replace(auth, '^.*@', ''), ';.*$', '');
    path := regexp_replace(path, ';[^/]*', '', 'g');
    path := regexp_replace(
        path, '(^|/)(?=[^/]*[0-9])(?=[^/]*[A-Za-z])[A-Za-z0-9_.~+=%-]{20,}(?=/|$)', '\1***', 'g'
    );
    IF lower(head) = 'android://' THEN
        RETURN head || auth || '/';
    END IF;
    RETURN head || auth || path;
END
$$;

UPDATE exposures SET url = credwatch_scrub_url(url) WHERE url <> credwatch_scrub_url(url);
UPDATE sightings SET url = credwatch_scrub_url(url) WHERE url <> credwatch_scrub_url(url);

DROP FUNCTION credwatch_scrub_url(text);
