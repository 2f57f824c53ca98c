"""Password files of every stealer family: all planted entries found, exact lines, junk ignored."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.stealer_passwords import ParseStats, PasswordEntry, parse_passwords
from monitor.types import Secret
from tests.gen.stealer import (
    ENCODINGS,
    FAMILIES,
    LABEL_CASES,
    NEWLINES,
    SOFTWARE,
    VARIANTS,
    encode,
    password_file,
)

CREDS = [
    ("https://portail-partenaire.example.org/kairos", "Partner.User@gmail.com", "Kair0s!2024"),
    ("https://intranet.example.org:8443/login?next=/", "jdoe", "p@ss: w0rd with spaces "),
    ("android://c2lnbmF0dXJl==@com.example.app/", "", "  leading"),
    ("http://192.0.2.10/admin", "admin", "UNKNOWN"),
    ("https://xn--exmple-cua.test/", "иван@пример.рф", "пароль:123"),
]

CASES = [
    (family, variant, case)
    for family in FAMILIES
    for variant in VARIANTS[family]
    for case in LABEL_CASES
]


def numbered(lines: list[str]) -> list[tuple[int, str]]:
    return list(enumerate(lines, 1))


def split_text(data: bytes, encoding: str) -> list[tuple[int, str]]:
    codec = {"utf-16-le": "utf-16", "utf-16-be": "utf-16", "utf-8": "utf-8-sig"}.get(
        encoding, encoding
    )
    text = data.decode(codec)
    return list(enumerate(re.split(r"\r\n|\n", text.removesuffix("\n").removesuffix("\r")), 1))


def check(entries: list[PasswordEntry], lines: list[int], software: str | None) -> None:
    assert [(e.url, e.login, e.line, e.software) for e in entries] == [
        (url, login, line, software) for (url, login, _), line in zip(CREDS, lines, strict=True)
    ]
    for entry, (_, _, password) in zip(entries, CREDS, strict=True):
        assert entry.secret == Secret(password)


@pytest.mark.parametrize(("family", "variant", "label_case"), CASES)
def test_every_family_and_label_variant(family: str, variant: str, label_case: str) -> None:
    lines, password_lines = password_file(family, CREDS, variant=variant, label_case=label_case)
    stats = ParseStats()
    entries = list(parse_passwords(numbered(lines), stats))
    check(entries, password_lines, SOFTWARE[(family, variant)])
    assert (stats.blocks, stats.entries, stats.incomplete) == (5, 5, 0)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("newline", NEWLINES)
def test_encodings_and_newlines(family: str, encoding: str, newline: str) -> None:
    lines, password_lines = password_file(family, CREDS)
    decoded = split_text(encode(lines, encoding=encoding, newline=newline), encoding)
    entries = list(parse_passwords(decoded))
    check(entries, password_lines, SOFTWARE[(family, VARIANTS[family][0])])


def test_unknown_login_is_empty_but_kept() -> None:
    lines = ["URL: https://a.example.org/", "Username: UNKNOWN", "Password: s3cret", "====="]
    (entry,) = parse_passwords(numbered(lines))
    assert (entry.url, entry.login, entry.line) == ("https://a.example.org/", "", 3)
    assert entry.secret == Secret("s3cret")


def test_password_kept_verbatim_only_eol_and_one_space_stripped() -> None:
    lines = ["URL: https://a.example.org/", "Password:   two leading, trailing  \r"]
    (entry,) = parse_passwords(numbered(lines))
    assert entry.secret == Secret("  two leading, trailing  ")
    lines = ["URL:https://a.example.org/", "PASS:nospace"]
    (entry,) = parse_passwords(numbered(lines))
    assert (entry.url, entry.secret) == ("https://a.example.org/", Secret("nospace"))


def test_value_with_colons_and_spaces() -> None:
    lines = ["Host: https://a.b:8443/x y", "Login: a:b", "Password: c:d:e"]
    (entry,) = parse_passwords(numbered(lines))
    assert (entry.url, entry.login, entry.secret) == (
        "https://a.b:8443/x y",
        "a:b",
        Secret("c:d:e"),
    )


def test_blocks_without_any_separator_and_soft_last() -> None:
    lines = [
        "URL: https://one.example/",
        "Username: u1",
        "Password: p1",
        "Application: Chrome",
        "URL: https://two.example/",
        "Password: p2",
        "Username: u2",
    ]
    entries = list(parse_passwords(numbered(lines)))
    assert [(e.url, e.login, e.line, e.software) for e in entries] == [
        ("https://one.example/", "u1", 3, "Chrome"),
        ("https://two.example/", "u2", 6, None),
    ]


def test_banners_sellers_and_branded_separators_ignored() -> None:
    lines = [
        "*****************************",
        "*  Telegram: https://t.me/x *",
        "*****************************",
        "Telegram: https://t.me/example",
        "Seller: someone",
        "Log Tools: https://t.me/tools",
        "https://t.me/only_a_link",
        "========Brand========",
        "Soft: Edge",
        "Host: https://a.example/",
        "Login: x",
        "Password: y",
        "---------------------",
        "Soft: Edge",
        "Host: https://b.example/",
        "Login: x2",
        "Password: y2",
    ]
    stats = ParseStats()
    entries = list(parse_passwords(numbered(lines), stats))
    assert [(e.url, e.login, e.line) for e in entries] == [
        ("https://a.example/", "x", 12),
        ("https://b.example/", "x2", 17),
    ]
    assert (stats.blocks, stats.entries, stats.incomplete) == (2, 2, 0)


def test_incomplete_blocks_counted_not_yielded() -> None:
    lines = [
        "URL: https://nopass.example/",
        "Username: a",
        "",
        "Username: b",
        "Password: nourl",
        "",
        "URL: https://empty.example/",
        "Password:",
        "",
        "URL: https://ok.example/",
        "Password: ok",
    ]
    stats = ParseStats()
    entries = list(parse_passwords(numbered(lines), stats))
    assert [(e.url, e.line) for e in entries] == [("https://ok.example/", 11)]
    assert (stats.blocks, stats.entries, stats.incomplete) == (4, 1, 3)


def test_bracket_software_and_stealc_profile() -> None:
    lines = ['["Opera" = "Profile 2"]', "url: https://a.example/", "password: p"]
    (entry,) = parse_passwords(numbered(lines))
    assert entry.software == "Opera [Profile 2]"
    lines = ["browser: Brave", "profile: Default", "url: https://a.example/", "password: p"]
    (entry,) = parse_passwords(numbered(lines))
    assert entry.software == "Brave [Default]"


def test_password_never_in_repr() -> None:
    lines = ["URL: https://a.example/", "Password: VerySecretValue99"]
    (entry,) = parse_passwords(numbered(lines))
    assert "VerySecretValue99" not in repr(entry)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=40))
def test_never_raises_on_arbitrary_lines(texts: list[str]) -> None:
    stats = ParseStats()
    entries = list(parse_passwords(numbered(texts), stats))
    assert stats.entries == len(entries)
    assert stats.blocks == stats.entries + stats.incomplete


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["URL: ", "Password: ", "USER: ", "Soft: ", "===============", "", "x", ":", "UR1:"]
        ).flatmap(lambda p: st.text(max_size=20).map(lambda s: p + s)),
        max_size=40,
    )
)
def test_never_raises_on_label_soup(texts: list[str]) -> None:
    for entry in parse_passwords(numbered(texts)):
        assert entry.url
        assert entry.secret
