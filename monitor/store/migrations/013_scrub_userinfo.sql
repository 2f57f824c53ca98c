-- Scrub stored URLs whose userinfo password held an unencoded `/`, or whose login and part of a
-- password were kept as a host and a port (`https://bob:pa`), as monitor.normalize.safe_url
-- now reads them: URLs stored before carry no query or fragment, so `/` alone ends the
-- authority. When the authority holds a `:` and an `@` follows, the URL restarts after the last
-- `@` followed by a dotted host, `[v6]` or localhost, else after the last `@`, unless the
-- authority is a dotted host and a numeric port; a port that is not digits is dropped.
CREATE FUNCTION credwatch_scrub_userinfo(u text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    head text := '';
    rest text := u;
    auth text;
    tail text := '';
    cut integer;
    host text;
BEGIN
    cut := position('://' in rest);
    IF cut > 0 THEN
        head := substr(rest, 1, cut + 2);
        rest := substr(rest, cut + 3);
    END IF;
    IF lower(head) = 'android://' THEN
        RETURN u;
    END IF;
    cut := position('/' in rest);
    IF cut > 0
        AND position(':' in substr(rest, 1, cut - 1)) > 0
        AND position('@' in substr(rest, cut)) > 0
        AND substr(rest, 1, cut - 1) !~ '^([^@]*@)?[^:@]*\.[^:@]*:[0-9]+$'
    THEN
        host := substring(
            rest from '^.*@((?:[^@/]*\.[^@/]*|\[[^@/]*|localhost(?::[0-9]*)?)(?:/.*)?)$'
        );
        rest := coalesce(host, regexp_replace(rest, '^.*@', ''));
    END IF;
    cut := position('/' in rest);
    IF cut > 0 THEN
        auth := substr(rest, 1, cut - 1);
        tail := substr(rest, cut);
    ELSE
        auth := rest;
    END IF;
    IF left(auth, 1) <> '[' AND auth ~ '^[^:]*:.*[^0-9]' THEN
        auth := split_part(auth, ':', 1);
    END IF;
    RETURN head || auth || tail;
END
$$;

UPDATE exposures SET url = credwatch_scrub_userinfo(url)
    WHERE url <> credwatch_scrub_userinfo(url);
UPDATE sightings SET url = credwatch_scrub_userinfo(url)
    WHERE url <> credwatch_scrub_userinfo(url);

DROP FUNCTION credwatch_scrub_userinfo(text);
