"""Unit tests for the ULP / combo line parser: every documented variant, junk, and properties."""

from __future__ import annotations

import hashlib
import json
import string
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bench.gen_ulp import (
    DECOY_KINDS,
    HIT_KINDS,
    PARTNER_EMAIL_DOMAINS,
    PORTAL_HOST,
    WATCHED_DOMAINS,
    generate,
)
from bench.gen_ulp import main as gen_main
from feeds.ulp import MAX_LINE_CHARS, UlpRecord, parse_ulp_bytes, parse_ulp_line
from monitor.normalize import canonical_login, email_domain, path_under, split_url, under_domain

PARSED = [
    # url first, with scheme
    ("https://site.com/path:alice:s3cret", "https://site.com/path", "alice", "s3cret"),
    ("http://site.com/:bob@mail.org:pw", "http://site.com/", "bob@mail.org", "pw"),
    ("https://site.com:8443/x:alice:s3cret", "https://site.com:8443/x", "alice", "s3cret"),
    ("https://site.com:8443:alice:s3cret", "https://site.com:8443", "alice", "s3cret"),
    ("https://site.com:alice@mail.org:s3cret", "https://site.com", "alice@mail.org", "s3cret"),
    ("https://site.com/a?b=1#c:alice:s3cret", "https://site.com/a?b=1#c", "alice", "s3cret"),
    ("ftp://1.2.3.4:21:admin:toor", "ftp://1.2.3.4:21", "admin", "toor"),
    ("chrome-extension://abcdef/:alice:s3cret", "chrome-extension://abcdef/", "alice", "s3cret"),
    # scheme-less host first
    ("site.com:alice:s3cret", "site.com", "alice", "s3cret"),
    ("site.com/login:alice:s3cret", "site.com/login", "alice", "s3cret"),
    ("site.com:8443:alice:s3cret", "site.com:8443", "alice", "s3cret"),
    ("site.com:8443/x:alice:s3cret", "site.com:8443/x", "alice", "s3cret"),
    ("1.2.3.4:admin:toor", "1.2.3.4", "admin", "toor"),
    ("FRANCETRAVAIL.FR.:alice:s3cret", "FRANCETRAVAIL.FR.", "alice", "s3cret"),
    # quoted URL
    ('"https://site.com/x":alice:s3cret', "https://site.com/x", "alice", "s3cret"),
    ("'https://site.com/x':alice:s3cret", "https://site.com/x", "alice", "s3cret"),
    # android
    (
        "android://AbC==@com.pkg.app/:alice:s3cret",
        "android://AbC==@com.pkg.app/",
        "alice",
        "s3cret",
    ),
    (
        "android://Ab/C+d==@com.pkg.app/:alice:s3cret",
        "android://Ab/C+d==@com.pkg.app/",
        "alice",
        "s3cret",
    ),
    (
        "android:///Ab+C==@com.pkg.app/:alice:s3cret",
        "android:///Ab+C==@com.pkg.app/",
        "alice",
        "s3cret",
    ),
    # other separators
    ("https://site.com/x|alice|s3cret", "https://site.com/x", "alice", "s3cret"),
    ("https://site.com/x;alice;s3cret", "https://site.com/x", "alice", "s3cret"),
    ("https://site.com/x\talice\ts3cret", "https://site.com/x", "alice", "s3cret"),
    ("https://site.com/x alice s3cret", "https://site.com/x", "alice", "s3cret"),
    ("https://site.com/x | alice | s3cret", "https://site.com/x", "alice", "s3cret"),
    ("https://site.com/x  \t alice   s3 cr et", "https://site.com/x", "alice", "s3 cr et"),
    ("site.com alice s3cret", "site.com", "alice", "s3cret"),
    ("site.com;alice;s3cret", "site.com", "alice", "s3cret"),
    # `;` inside a path versus `;` as the separator
    ("https://a.b/x;jsessionid=1:alice:s3cret", "https://a.b/x;jsessionid=1", "alice", "s3cret"),
    ("https://a.b/x;alice;pa:ss", "https://a.b/x", "alice", "pa:ss"),
    # url last
    ("alice:s3cret:https://site.com/", "https://site.com/", "alice", "s3cret"),
    ("alice:s3cret:site.com", "site.com", "alice", "s3cret"),
    ("alice:s3cret:site.com/login", "site.com/login", "alice", "s3cret"),
    ("alice@mail.org:pa:ss:https://s.com/a", "https://s.com/a", "alice@mail.org", "pa:ss"),
    ("alice | s3cret | https://x.com/", "https://x.com/", "alice", "s3cret"),
    ("alice\ts3cret\tsite.com", "site.com", "alice", "s3cret"),
    (
        "alice:s3cret:https://a.b/?next=https://c.d/",
        "https://a.b/?next=https://c.d/",
        "alice",
        "s3cret",
    ),
    # combos
    ("alice:s3cret", "", "alice", "s3cret"),
    ("mail@x.com:s3cret", "", "mail@x.com", "s3cret"),
    ("mail@x.com:12345", "", "mail@x.com", "12345"),
    ("alice;s3cret", "", "alice", "s3cret"),
    ("alice|s3cret", "", "alice", "s3cret"),
    ("alice\ts3cret", "", "alice", "s3cret"),
    ("alice : s3cret", "", "alice", "s3cret"),
    ("john.doe:s3cret", "", "john.doe", "s3cret"),
    ("site.com:alice", "", "site.com", "alice"),  # two fields: host-first needs three
    ("user:8443:pass", "", "user", "8443:pass"),
    # passwords holding separators, spaces and odd characters
    ("https://a.b/:alice:pa:ss", "https://a.b/", "alice", "pa:ss"),
    ("https://a.b/|alice|p|w", "https://a.b/", "alice", "p|w"),
    ("https://a.b/:alice:p w d", "https://a.b/", "alice", "p w d"),
    ("https://a.b/:alice:p@ss://x/y", "https://a.b/", "alice", "p@ss://x/y"),
    ("https://a.b/:alice:", "https://a.b/", "alice", ""),
    ("https://a.b/::s3cret", "https://a.b/", "", "s3cret"),
    ("https://a.b/:UNKNOWN:s3cret", "https://a.b/", "UNKNOWN", "s3cret"),
    # leading @, surrounding whitespace and CR
    ("@https://site.com/:alice:s3cret", "https://site.com/", "alice", "s3cret"),
    ("  https://site.com/:alice:s3 cret \r\n", "https://site.com/", "alice", "s3 cret"),
    ("\tsite.com:alice:s3cret\r", "site.com", "alice", "s3cret"),
    # IPv6 literals
    ("http://[::1]:8080/:alice:s3cret", "http://[::1]:8080/", "alice", "s3cret"),
    ("http://[::1]:alice:s3cret", "http://[::1]", "alice", "s3cret"),
    ("[::1]:8080:alice:s3cret", "[::1]:8080", "alice", "s3cret"),
    ("[2001:db8::1]:alice:s3cret", "[2001:db8::1]", "alice", "s3cret"),
    # userinfo in the URL is still part of the URL
    ("http://u:pw@host/:alice:s3cret", "http://u:pw@host/", "alice", "s3cret"),
    (
        "https://a@b.com:pw@host:81/x:alice:s3cret",
        "https://a@b.com:pw@host:81/x",
        "alice",
        "s3cret",
    ),
    (
        "https://francetravail.fr@evil.com/:alice:s3cret",
        "https://francetravail.fr@evil.com/",
        "alice",
        "s3cret",
    ),
    # numeric fields: a port only when a login and a password still follow
    ("site.com:8443:s3cret", "site.com", "8443", "s3cret"),
    ("https://a.b:1234:5678", "https://a.b", "1234", "5678"),
    ("https://site.com:99999:alice:s3cret", "https://site.com", "99999", "alice:s3cret"),
]


@pytest.mark.parametrize(("line", "url", "login", "password"), PARSED)
def test_parses_variant(line: str, url: str, login: str, password: str) -> None:
    assert parse_ulp_line(line) == UlpRecord(url=url, login=login, password=password)


@pytest.mark.parametrize(("line", "url", "login", "password"), PARSED)
def test_bytes_give_the_same_record(line: str, url: str, login: str, password: str) -> None:
    assert parse_ulp_bytes(line.encode()) == UlpRecord(url=url, login=login, password=password)


JUNK = [
    "",
    "   \r\n",
    "@",
    "no separator here",
    "justoneword",
    "https://site.com",
    "https://:alice:s3cret",
    "https://site.com:8443",
    "https://site.com/:alice",
    "https://site.com/::",
    "https://site.com/:UNKNOWN:",
    "https://site.com/:null:",
    ":",
    "::",
    ":s3cret",
    # placeholder phrases
    "user:pass",
    "USER:PASS",
    "username:password",
    "https://site.com/:user:pass",
    "https://site.com/:alice:null",
    "https://site.com/:alice:undefined",
    "https://site.com/:alice:(null)",
    "alice:NULL",
    "https://x.com/:alice:██████",
    # stealer password-block labels are not combos
    "URL: https://x.com/login",
    "Username: alice",
    "Password: s3cret",
    "Host: site.com",
    # too long
    "https://a.b/:alice:" + "x" * MAX_LINE_CHARS,
]


@pytest.mark.parametrize("line", JUNK)
def test_junk_is_none(line: str) -> None:
    assert parse_ulp_line(line) is None


def test_line_at_the_length_limit_still_parses() -> None:
    prefix = "https://a.b/:alice:"
    line = prefix + "x" * (MAX_LINE_CHARS - len(prefix))
    record = parse_ulp_line(line + "\r\n")
    assert record is not None
    assert len(record.password) == MAX_LINE_CHARS - len(prefix)
    assert parse_ulp_line(line + "x") is None


def test_invalid_utf8_keeps_password_bytes_and_cleans_login() -> None:
    raw = b"https://site.com/caf\xe9:al\xffice:p\xe9ss"
    record = parse_ulp_bytes(raw)
    assert record is not None
    assert record.url == "https://site.com/caf\ufffd"
    assert record.login == "al\ufffdice"
    assert record.password.encode("utf-8", "surrogateescape") == b"p\xe9ss"


def test_control_characters_are_dropped_from_url_and_login_only() -> None:
    record = parse_ulp_line("https://site.com/\x01x:al\x00ice:p\x00w")
    assert record == UlpRecord(url="https://site.com/x", login="alice", password="p\x00w")


def test_valid_utf8_is_decoded() -> None:
    record = parse_ulp_bytes("https://café.fr/:élodie:mötdepasse".encode())
    assert record == UlpRecord(url="https://café.fr/", login="élodie", password="mötdepasse")


def test_repr_masks_the_password() -> None:
    record = UlpRecord(url="https://a.b/", login="alice", password="hunter2-secret")
    assert "hunter2" not in repr(record)
    assert repr(record) == "UlpRecord(url='https://a.b/', login='alice', password=<14>)"


# --- properties -------------------------------------------------------------------------------

_LABEL = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12).filter(
    lambda s: not s.startswith("-")
)
_HOST = st.one_of(
    st.builds(
        lambda labels, tld: ".".join([*labels, tld]),
        st.lists(_LABEL, min_size=1, max_size=3),
        st.sampled_from(["com", "fr", "org", "example", "xn--p1ai", "co.uk"]),
    ),
    st.builds(
        lambda a, b, c, d: f"{a}.{b}.{c}.{d}",
        *[st.integers(0, 255)] * 4,
    ),
    st.sampled_from(["[::1]", "[2001:db8::1]", "localhost", "Intranet"]),
)
_PATH_CHARS = string.ascii_letters + string.digits + "-._~/%=&?#+,!$'()*@"
_URL = st.builds(
    lambda scheme, host, port, path: f"{scheme}://{host}{port}{path}",
    st.sampled_from(["http", "https", "ftp", "android", "chrome-extension"]),
    _HOST,
    st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}")),
    st.one_of(
        st.just(""),
        st.text(_PATH_CHARS, max_size=30).map(lambda p: "/" + p),
    ),
)
_LOGIN = st.text(string.ascii_letters + string.digits + "._-+@", min_size=1, max_size=30).filter(
    lambda s: not s.isdigit()
)
_PASSWORD = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=40
).filter(lambda s: s == s.strip() and "█" not in s)
_JUNK_PASSWORDS = {"null", "undefined", "(null)", "pass", "password", "passwd", "pwd"}


@settings(max_examples=1500)
@given(url=_URL, login=_LOGIN, password=_PASSWORD)
def test_url_login_password_round_trip(url: str, login: str, password: str) -> None:
    assume(password.lower() not in _JUNK_PASSWORDS)
    assume(login.lower() not in {"unknown", "none", "null", "undefined", "n/a", "-"})
    if "/" not in url.split("://", 1)[1]:
        # Without a path, `https://a.b:mail@x.com:12/y:z:w` reads `a.b:mail@x.com:12` as an
        # authority with userinfo: a documented ambiguity, so e-mail logins get a path here.
        assume("@" not in login)
    record = parse_ulp_line(f"{url}:{login}:{password}")
    assert record == UlpRecord(url=url, login=login, password=password)
    assert parse_ulp_bytes(f"{url}:{login}:{password}\r\n".encode()) == record


@settings(max_examples=800)
@given(
    login=_LOGIN.filter(lambda s: ("@" in s or "." not in s) and not s.startswith("@")),
    password=_PASSWORD.filter(lambda s: ":" not in s),
)
def test_combo_round_trip(login: str, password: str) -> None:
    assume(password and password.lower() not in _JUNK_PASSWORDS)
    # `login://…` is a URL by its shape (a scheme and an authority), not a combo line.
    assume(not password.startswith("//"))
    record = parse_ulp_line(f"{login}:{password}")
    assert record == UlpRecord(url="", login=login, password=password)


@settings(max_examples=1500)
@given(st.text(max_size=300))
def test_never_raises_on_text(line: str) -> None:
    record = parse_ulp_line(line)
    if record is not None:
        assert record.login or record.password
        for field in (record.url, record.login):
            field.encode("utf-8")
            assert not any(ord(c) < 32 or c == "\x7f" for c in field)


@settings(max_examples=1500)
@given(st.binary(max_size=300))
def test_never_raises_on_bytes(line: bytes) -> None:
    record = parse_ulp_bytes(line)
    if record is not None:
        record.url.encode("utf-8")
        record.login.encode("utf-8")


@settings(max_examples=800)
@given(
    st.lists(
        st.sampled_from([":", "|", ";", "\t", " ", "/", "@", "[", "]", "://", "a.b", "8443", '"']),
        max_size=20,
    ).map("".join)
)
def test_never_raises_on_separator_soup(line: str) -> None:
    record = parse_ulp_line(line)
    if record is not None:
        assert record.login or record.password


# --- the synthetic corpus generator, checked against the parser and the normalisation rules -----

WATCHED = frozenset(WATCHED_DOMAINS)
EMAIL_WATCHED = WATCHED | frozenset(PARTNER_EMAIL_DOMAINS)


def _reasons(line: str) -> set[str] | None:
    """What the project's matching rules say about one corpus line (None: not a credential)."""
    record = parse_ulp_line(line)
    if record is None:
        return None
    host, path = split_url(record.url)
    found: set[str] = set()
    if under_domain(host, WATCHED):
        found.add("host")
        if host == PORTAL_HOST and path_under(path, "/kairos"):
            found.add("portal")
    if under_domain(email_domain(canonical_login(record.login)), EMAIL_WATCHED):
        found.add("email_domain")
    return found


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("ulp") / "corpus.txt"
    truth = generate(
        out, lines=30_000, seed=7, hit_rate=0.01, decoy_rate=0.005, n_domains=3000, member_zip=True
    )
    assert json.loads(Path(f"{out}.truth.json").read_text(encoding="utf-8")) == truth
    return out, truth


def test_generated_truth_is_exact(corpus: tuple[Path, dict[str, Any]]) -> None:
    out, truth = corpus
    found: dict[int, set[str]] = {}
    unparsed = 0
    with out.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            reasons = _reasons(line)
            if reasons is None:
                unparsed += 1
            elif reasons:
                found[number] = reasons
    assert number == truth["lines"] == 30_000
    assert unparsed == 0
    assert truth["hit_lines"] == 300
    assert found == {h["line"]: set(h["reasons"]) for h in truth["hits"]}
    by_reason = {r: sum(r in v for v in found.values()) for r in ("host", "portal", "email_domain")}
    assert by_reason == truth["hits_by_reason"]
    assert sum(truth["hits_by_kind"].values()) == 300
    assert set(truth["hits_by_kind"]) == set(HIT_KINDS)


def test_generated_decoys_look_like_hits_but_match_nothing(
    corpus: tuple[Path, dict[str, Any]],
) -> None:
    out, truth = corpus
    decoy_at = {d["line"]: d["kind"] for d in truth["decoys"]}
    assert len(decoy_at) == truth["decoy_lines"] == 150
    assert set(truth["decoys_by_kind"]) == set(DECOY_KINDS) == set(truth["decoy_kinds"])
    looks = ("francetravail", "pole-emploi", "formation-isere", "xn--", "trаvail", "pоle")
    with out.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if number in decoy_at:
                assert _reasons(line) == set(), decoy_at[number]
                assert any(word in line.lower() for word in looks)


def test_background_never_mentions_a_watched_name(corpus: tuple[Path, dict[str, Any]]) -> None:
    out, truth = corpus
    planted = {h["line"] for h in truth["hits"]} | {d["line"] for d in truth["decoys"]}
    names = ("francetravail", "pole-emploi", "formation-isere", "kairos")
    with out.open(encoding="utf-8") as fh:
        mentions = {
            number
            for number, line in enumerate(fh, start=1)
            if any(name in line.lower() for name in names)
        }
    hits_with_name = {h["line"] for h in truth["hits"]}
    assert mentions - planted == set()
    assert hits_with_name <= mentions


def test_generator_is_deterministic_and_zip_holds_the_same_bytes(
    corpus: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, truth = corpus
    again = tmp_path / "corpus.txt"
    truth2 = generate(again, lines=30_000, seed=7, hit_rate=0.01, decoy_rate=0.005, n_domains=3000)
    assert truth2 == truth
    assert again.read_bytes() == out.read_bytes()
    assert hashlib.sha256(out.read_bytes()).hexdigest() == truth["sha256"]
    assert out.stat().st_size == truth["bytes"]
    with zipfile.ZipFile(f"{out}.zip") as zf:
        assert zf.namelist() == ["corpus.txt"]
        assert zf.read("corpus.txt") == out.read_bytes()
    other = generate(tmp_path / "other.txt", lines=1000, seed=8, n_domains=3000)
    assert (
        other["sha256"]
        != generate(tmp_path / "x.txt", lines=1000, seed=7, n_domains=3000)["sha256"]
    )


def test_generator_cli(tmp_path: Path) -> None:
    out = tmp_path / "cli.txt"
    gen_main(
        [str(out), "--lines", "2500", "--seed", "3", "--hit-rate", "0.004", "--domains", "500"]
    )
    truth = json.loads(Path(f"{out}.truth.json").read_text(encoding="utf-8"))
    assert truth["lines"] == 2500
    assert truth["hit_lines"] == 10
    assert out.read_bytes().count(b"\n") == 2500
    assert not Path(f"{out}.zip").exists()
