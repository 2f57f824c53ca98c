"""Normalisation and matching: what must match, and the traps that must not."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.matcher import match
from monitor.normalize import canonical_login, safe_url, split_url
from monitor.types import CredentialKind, LeakedCredential, Reason, Secret, Severity
from monitor.watchlist import Watchlist, build_watchlist

CONFIG = """
[organisation]
name = "France Travail"
domains = ["francetravail.fr", "pole-emploi.fr"]
portals = ["https://portail-partenaire.francetravail.fr/kairos"]

[[partners]]
name = "Organisme de formation, Isère"
email_domains = ["formation-isere.example"]
security_contact = "rssi@formation-isere.example"

[accounts]
logins = ["jdupont.of38", "M.Martin@formation-isere.example"]
"""


@pytest.fixture(scope="module")
def watch(tmp_path_factory: pytest.TempPathFactory) -> Watchlist:
    path = tmp_path_factory.mktemp("cfg") / "credwatch.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return build_watchlist(load_config(path))


def cred(url: str, login: str = "someone", password: str = "Hunter2!x") -> LeakedCredential:
    host, path = split_url(url)
    return LeakedCredential(
        kind=CredentialKind.PASSWORD,
        url=url,
        host=host,
        path=path,
        login=canonical_login(login),
        secret=Secret(password),
        origin="t.txt",
        line=1,
    )


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("HTTPS://CANDIDAT.FranceTravail.FR/login", "candidat.francetravail.fr"),
        ("https://francetravail.fr:8443/x", "francetravail.fr"),
        ("https://francetravail.fr./", "francetravail.fr"),
        ("francetravail.fr/espace", "francetravail.fr"),
        ("candidat.pole-emploi.fr", "candidat.pole-emploi.fr"),
        ("android://Zm9v==@fr.francetravail.candidat/", "candidat.francetravail.fr"),
        ("https://user:pw@francetravail.fr/", "francetravail.fr"),
        ('"https://francetravail.fr/x"', "francetravail.fr"),
    ],
)
def test_must_match_host(watch: Watchlist, url: str, host: str) -> None:
    c = cred(url)
    assert c.host == host
    m = match(c, watch)
    assert m is not None
    assert Reason.HOST in m.reasons


@pytest.mark.parametrize(
    "url",
    [
        "https://francetravail.fr.evil.com/login",
        "https://notfrancetravail.fr/",
        "https://francetravail.fr@evil.com/",
        "https://evil.com\\@francetravail.fr/",
        "https://xn--francetravai-xyz.fr/",
        "https://frаncetravail.fr/",  # Cyrillic "а": a homoglyph
        "https://evil.com/francetravail.fr",
        "https://evil.com/?next=https://francetravail.fr/",
        "https://francetravail.frx/",
        "fr.francetravail.evil.com",
    ],
)
def test_traps_never_match(watch: Watchlist, url: str) -> None:
    assert match(cred(url), watch) is None


def test_domain_only_in_password_does_not_match(watch: Watchlist) -> None:
    assert match(cred("https://evil.com/", password="francetravail.fr"), watch) is None


def test_portal_with_path_prefix(watch: Watchlist) -> None:
    m = match(cred("https://portail-partenaire.francetravail.fr/kairos/login"), watch)
    assert m is not None and Reason.PORTAL in m.reasons
    assert m.portal == "https://portail-partenaire.francetravail.fr/kairos"
    other = match(cred("https://portail-partenaire.francetravail.fr/kairosx"), watch)
    assert other is not None and Reason.PORTAL not in other.reasons
    assert Reason.HOST in other.reasons


def test_portal_credential_of_partner_is_critical(watch: Watchlist) -> None:
    m = match(
        cred(
            "https://portail-partenaire.francetravail.fr/kairos", "m.martin@formation-isere.example"
        ),
        watch,
    )
    assert m is not None
    assert set(m.reasons) == {Reason.HOST, Reason.PORTAL, Reason.LOGIN, Reason.EMAIL_DOMAIN}
    assert m.severity is Severity.CRITICAL
    assert m.partner == "Organisme de formation, Isère"


def test_monitored_login_on_any_site(watch: Watchlist) -> None:
    m = match(cred("https://gmail.com/", "JDupont.OF38"), watch)
    assert m is not None and m.reasons == (Reason.LOGIN,)
    assert m.severity is Severity.MEDIUM


def test_email_domain_on_other_site(watch: Watchlist) -> None:
    m = match(cred("https://netflix.com/", "a.b%40formation-isere.example"), watch)
    assert m is not None and m.reasons == (Reason.EMAIL_DOMAIN,)
    assert m.partner == "Organisme de formation, Isère"
    assert match(cred("https://netflix.com/", "a@formation-isere.example.evil.com"), watch) is None


def test_safe_url_drops_userinfo_and_query() -> None:
    assert safe_url("https://u:Secr3t@h.fr:8443/a?password=x#f") == "https://h.fr:8443/a"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://u:pw@host.example:8443/a/b?token=1#x", "https://host.example:8443/a/b"),
        ("host.example/login?pass=1", "host.example/login"),
        ("android://sig==@com.example.app/", "android://com.example.app/"),
        ("", ""),
        ("https://h.example/app;jsessionid=ABC123/login", "https://h.example/app/login"),
        ("https://h.example/login;sid=XYZ?x=1", "https://h.example/login"),
        ("https://h.example;sid=XYZ/", "https://h.example/"),
        ("http://u:p@h.example\\a;s=1\\b", "http://h.example/a/b"),
        ("'https://user@h.example/#frag'", "https://h.example/"),
        ("ftp://h.example/pub;type=i", "ftp://h.example/pub"),
    ],
)
def test_safe_url_keeps_only_scheme_host_port_and_path(raw: str, expected: str) -> None:
    assert safe_url(raw) == expected


def test_secret_never_in_repr() -> None:
    s = Secret("Correct-Horse-42")
    assert "Correct" not in repr(s) and "Horse" not in str(s)
    assert s.hint == "C…2(16–23)"
    assert Secret("abc12").hint == "…(1–7)"
    assert s.fingerprint(b"k" * 32) != Secret("other").fingerprint(b"k" * 32)


def test_config_errors_name_key_and_file(tmp_path: Path) -> None:
    from monitor.errors import ConfigError

    p = tmp_path / "c.toml"
    p.write_text('[organisation]\nname = "x"\ndomains = ["a.fr"]\ncolour = 1\n')
    with pytest.raises(ConfigError, match=r"c\.toml: \[organisation\] colour: unknown key"):
        load_config(p)
    p.write_text('[organisation]\nname = "x"\nportals = ["not a url"]\n')
    with pytest.raises(ConfigError, match=r"c\.toml: \[organisation\] portals: "):
        load_config(p)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "https://h.example/reset/eyJhbGciOiJIUzI1NiJ9a1b2c3d4e5f6/confirm",
            "https://h.example/reset/***/confirm",
        ),
        ("https://h.example/magic/0123456789abcdef0123456789abcdef", "https://h.example/magic/***"),
        (
            "https://h.example/a-long-but-plain-path-segment/x",
            "https://h.example/a-long-but-plain-path-segment/x",
        ),
        ("https://h.example/v2/user123", "https://h.example/v2/user123"),
    ],
)
def test_safe_url_masks_token_looking_segments(raw: str, expected: str) -> None:
    assert safe_url(raw) == expected
    assert safe_url(safe_url(raw)) == expected  # idempotent


def test_every_leaked_credential_holds_the_safe_url() -> None:
    from monitor.types import CredentialKind, LeakedCredential

    c = LeakedCredential(
        kind=CredentialKind.PASSWORD,
        url="https://bob:Pw@portal.example/kairos;jsessionid=S1?token=T#frag",
        host="portal.example",
        path="/kairos",
        login="bob@x.fr",
        secret=Secret("Pw"),
        origin="ulp.txt",
    )
    assert c.url == "https://portal.example/kairos"


# A userinfo password with each character that ends an authority, or that a naive split takes
# for a delimiter, left unencoded as stealers write it.
HOSTILE_USERINFO = [
    ("https://bob:pa/SeCrEt@portal.example/x", "https://portal.example/x"),
    ("https://bob:pa#SeCrEt@portal.example/x", "https://portal.example/x"),
    ("https://bob:pa?SeCrEt@portal.example/x", "https://portal.example/x"),
    ("https://bob:pa@SeCrEt@portal.example/x", "https://portal.example/x"),
    ("https://bob:pa:SeCrEt@portal.example/x", "https://portal.example/x"),
    ("https://bob:p@/SeCrEt?#:@portal.example/x?q=1", "https://portal.example/x"),
    ("https://bob:pa\\SeCrEt@portal.example/x", "https://portal.example/x"),
    ("https://bob:pa/SeCrEt@intranet/x", "https://intranet/x"),
    ("https://bob:pa/SeCrEt@[2001:db8::1]:8443/x", "https://[2001:db8::1]:8443/x"),
    ("https://bob:pa/SeCrEt@portal.example/@team/x", "https://portal.example/@team/x"),
    ("bob:pa/SeCrEt@portal.example/x", "portal.example/x"),
    # no `@` left to tell where the host is: what follows the login is never kept as a port
    ("https://bob:SeCrEt", "https://bob"),
    ("bob:SeCrEt/x", "bob/x"),
]


@pytest.mark.parametrize(("raw", "expected"), HOSTILE_USERINFO)
def test_safe_url_drops_a_password_holding_delimiters(raw: str, expected: str) -> None:
    assert safe_url(raw) == expected
    assert safe_url(safe_url(raw)) == expected  # idempotent


@pytest.mark.parametrize(
    "raw",
    [
        "https://portal.example:8443/login?mail=a@b.example",
        "https://medium.example/@user.name/post",
        "https://portal.example/login?next=/a:b@c.example",
    ],
)
def test_safe_url_keeps_an_at_sign_that_is_not_userinfo(raw: str) -> None:
    host_and_path = raw.split("?", 1)[0]
    assert safe_url(raw) == host_and_path


@pytest.mark.parametrize(("raw", "expected"), HOSTILE_USERINFO)
def test_hostile_userinfo_reaches_neither_record_nor_json(raw: str, expected: str) -> None:
    import json

    from monitor.output import sighting_json
    from monitor.pipeline import Sighting
    from monitor.types import Match

    c = LeakedCredential(
        kind=CredentialKind.PASSWORD,
        url=raw,
        host="portal.example",
        path="/x",
        login="bob",
        secret=Secret("SeCrEt"),
        origin="ulp.txt",
    )
    assert c.url == expected
    m = Match(credential=c, reasons=(Reason.HOST,), severity=Severity.HIGH)
    sighting = Sighting(match=m, exposure_id=1, new_exposure=True, new_sighting=True)
    out = json.dumps(sighting_json(sighting))
    assert "SeCrEt" not in out and "bob:" not in out
    assert json.loads(out)["url"] == expected


@pytest.mark.parametrize("password", ["pa/ss", "pa#ss", "pa?ss", "p@ss", "pa:ss"])
def test_split_url_finds_the_host_behind_any_userinfo_password(password: str) -> None:
    assert split_url(f"https://bob:{password}@portal.example/kairos") == (
        "portal.example",
        "/kairos",
    )
