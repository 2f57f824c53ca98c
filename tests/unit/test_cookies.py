"""Netscape cookie files: TAB and space layouts, #HttpOnly_ kept, comments and junk skipped."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.cookies import CookieEntry, parse_cookies
from monitor.types import Secret
from tests.gen.stealer import cookie_file

JWT = "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiJ1c2VyIiwiZXhwIjoxOTAwMDAwMDAwfQ" * 40 + ".c2ln"


def numbered(lines: list[str]) -> list[tuple[int, str]]:
    return list(enumerate(lines, 1))


def summary(entries: list[CookieEntry]) -> list[tuple[object, ...]]:
    return [
        (e.domain, e.include_subdomains, e.path, e.secure, e.expires, e.name, e.http_only, e.line)
        for e in entries
    ]


def test_generated_file_with_httponly_and_long_values() -> None:
    cookies = [
        (".Portail-Partenaire.Example.org", "SESSION", "abc123"),
        ("#HttpOnly_.example.org", "sid", JWT),
        ("#HttpOnly_login.example.org", "csrf", "x y z"),
    ]
    entries = list(parse_cookies(numbered(cookie_file(cookies, expires=1893456000))))
    when = datetime(2030, 1, 1, tzinfo=UTC)
    assert summary(entries) == [
        ("portail-partenaire.example.org", True, "/", True, when, "SESSION", False, 4),
        ("example.org", True, "/", True, when, "sid", True, 5),
        ("login.example.org", False, "/", True, when, "csrf", True, 6),
    ]
    assert [e.value for e in entries] == [Secret("abc123"), Secret(JWT), Secret("x y z")]
    assert len(entries[1].value) == len(JWT)


def test_space_separated_session_cookie_and_idn() -> None:
    lines = [
        ".bücher.example    TRUE   /shop   FALSE   0   cart   v1",
        "www.example.net\tFALSE\t/\tFALSE\t-1\tpref\tdark",
    ]
    entries = list(parse_cookies(numbered(lines)))
    assert summary(entries) == [
        ("xn--bcher-kva.example", True, "/shop", False, None, "cart", False, 1),
        ("www.example.net", False, "/", False, None, "pref", False, 2),
    ]


def test_milliseconds_expiry() -> None:
    (entry,) = parse_cookies(numbered(["a.example\tFALSE\t/\tTRUE\t1893456000000\tn\tv"]))
    assert entry.expires == datetime(2030, 1, 1, tzinfo=UTC)


def test_comments_blanks_and_malformed_skipped() -> None:
    lines = [
        "# Netscape HTTP Cookie File",
        "#a.example\tFALSE\t/\tTRUE\t0\tcommented\tv",
        "",
        "a.example\tMAYBE\t/\tTRUE\t0\tbadflag\tv",
        "a.example\tFALSE\t/\tTRUE\tsoon\tbadexpiry\tv",
        "a.example\tFALSE\t/\tTRUE\t0\tnovalue\t",
        "a.example\tFALSE\t/",
        "\tFALSE\t/\tTRUE\t0\tnodomain\tv",
        "a b\tFALSE\t/\tTRUE\t0\tspacedomain\tv",
        "a.example\tFALSE\t/\tTRUE\tnan\tnan\tv",
        "a.example\tFALSE\t/\tTRUE\t1e400\tinf\tv",
        "ok.example\tFALSE\t/\tTRUE\t0\tgood\tv\twith tab",
    ]
    entries = list(parse_cookies(numbered(lines)))
    assert [(e.domain, e.name, e.line) for e in entries] == [("ok.example", "good", 12)]
    assert entries[0].value == Secret("v\twith tab")


def test_value_never_in_repr() -> None:
    (entry,) = parse_cookies(numbered(["a.example\tFALSE\t/\tTRUE\t0\tsid\tTopSecretCookie42"]))
    assert "TopSecretCookie42" not in repr(entry)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(max_size=120), max_size=30))
def test_never_raises_on_arbitrary_lines(texts: list[str]) -> None:
    for entry in parse_cookies(numbered(texts)):
        assert entry.domain
        assert entry.value


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(
            st.sampled_from(["TRUE", "FALSE", "0", "-5", "99999999999999999999", "x", "#HttpOnly_"])
            | st.text(max_size=12),
            min_size=5,
            max_size=9,
        ).map("\t".join),
        max_size=20,
    )
)
def test_never_raises_on_tabbed_junk(texts: list[str]) -> None:
    list(parse_cookies(numbered(texts)))
