"""The public-suffix walk gives tldextract's answer for every rule of the list it ships, and for
arbitrary host-like text (wildcards, exceptions, punycode, IP addresses, ports, odd dots)."""

from __future__ import annotations

import functools
import subprocess
import sys
from typing import Any

import idna
import pytest
import tldextract
from hypothesis import given
from hypothesis import strategies as st
from tldextract.suffix_list import extract_tlds_from_suffix_list

from monitor import public_suffix
from monitor.normalize import registered_domain


@functools.cache
def reference() -> Any:
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def expected(host: str) -> str:
    return str(reference().extract_str(host).top_domain_under_public_suffix)


@functools.cache
def icann_rules() -> list[str]:
    """The ICANN section of the snapshot, read by tldextract's own parser."""
    folder = tldextract.__file__.rsplit("/", 1)[0]
    with open(f"{folder}/.tld_set_snapshot", encoding="utf-8") as fh:
        public, _private = extract_tlds_from_suffix_list(fh.read())
    return public


def hosts_around(rule: str) -> list[str]:
    bare = rule.lstrip("!").replace("*", "w")
    out = [bare, f"x.{bare}", f"a.b.{bare}", f"X.Y.{bare.upper()}", f"x.{bare}.", f"x.{bare}:8080"]
    if rule.startswith("*."):
        out.append(f"a.www.{rule[2:]}")
    try:
        puny = idna.encode(bare, uts46=True).decode("ascii")
    except idna.IDNAError:
        puny = ""
    if puny and puny != bare:
        out += [puny, f"x.{puny}", f"a.b.{puny}"]
    return out


def test_the_snapshot_has_the_icann_rules() -> None:
    table = public_suffix.rules()
    assert len(table.ends) == len(set(icann_rules())) > 5000
    assert {"co.uk", "*.ck", "!www.ck"} <= table.ends and "uk" in table.nodes


def test_every_rule_of_the_list_agrees_with_tldextract() -> None:
    wrong = [
        (host, public_suffix.top_domain(host), expected(host))
        for rule in icann_rules()
        for host in hosts_around(rule)
        if public_suffix.top_domain(host) != expected(host)
    ]
    assert wrong == [], wrong[:20]


@pytest.mark.parametrize(
    "host",
    [
        "a.b.francetravail.fr", "forums.bbc.co.uk", "www.ck", "a.www.ck", "a.b.ck", "ck", "co.uk",
        "127.0.0.1", "[::1]", "[2001:db8::1]:443", "localhost", "x.invalidtld", "", ".", "..",
        "a..b.com", "user@host.example.com:99", "http://a.b.example.org/p?q#f", "//x.y.gov.uk",
        "xn--80ak6aa92e.com", "x.xn--p1ai", "x.рф", "a。b．example．com", "x.xn--zz-broken.com",
        "EXAMPLE.COM.", "x.com\u3002", "1.2.3.4.com", "x.s3.amazonaws.com", "a.b.kawasaki.jp",
        "city.kawasaki.jp", "x.city.kawasaki.jp",
    ],
)  # fmt: skip
def test_known_cases_agree_with_tldextract(host: str) -> None:
    assert public_suffix.top_domain(host) == expected(host)


LABEL = st.sampled_from(
    ["com", "co", "uk", "fr", "ck", "www", "jp", "kawasaki", "city", "xn--p1ai", "рф", "xn--",
     "xn--zz", "a", "B", "1", "255", "*", "!www", "", "-", "ünï", "s3", "amazonaws", "github",
     "io", "gov", "[::1]", "@", ":80", "//", "\u3002"]
)  # fmt: skip


@given(st.lists(LABEL, min_size=1, max_size=6), st.sampled_from(["", "https://", "//", "u@"]))
def test_host_like_text_agrees_with_tldextract(labels: list[str], prefix: str) -> None:
    host = prefix + ".".join(labels)
    assert public_suffix.top_domain(host) == expected(host)


@given(st.text(max_size=40))
def test_any_text_agrees_with_tldextract(text: str) -> None:
    assert public_suffix.top_domain(text) == expected(text)


def test_registered_domain_keeps_its_contract() -> None:
    assert registered_domain("a.b.francetravail.fr") == "francetravail.fr"
    assert registered_domain("forums.bbc.co.uk") == "bbc.co.uk"
    assert registered_domain("10.1.2.3") == "10.1.2.3"  # no registrable domain: the host itself
    assert registered_domain("") == ""


def test_a_lookup_does_not_load_tldextract() -> None:
    code = (  # a clean process: this file loaded tldextract as the reference
        "import sys; from monitor.normalize import registered_domain;"
        "assert registered_domain('x.a.co.uk') == 'a.co.uk';"
        "print(sorted(m for m in sys.modules if m.startswith(('tldextract', 'requests'))))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stdout.strip() == "[]", res.stderr


def test_without_the_snapshot_tldextract_itself_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor import public_suffix

    monkeypatch.setattr(public_suffix, "rules", lambda: None)  # a tldextract that moved it
    assert public_suffix.top_domain("a.b.example.co.uk") == "example.co.uk"
    assert public_suffix.top_domain("192.168.0.1") == ""
