"""Members are read by content: every generated shape gives its records and nothing else."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from feeds import breach
from feeds.content import Content, sniff_content
from feeds.hashes import hash_algorithm
from feeds.reader import FileFeed
from feeds.stealer_passwords import parse_passwords
from feeds.ulp import parse_ulp_line
from monitor.feed import ArchiveLimits, FeedTotals, ReadContext
from monitor.types import CredentialKind, LeakedCredential, Problem, Secret
from tests.gen.archives import zip_bytes
from tests.gen.shapes import (
    HASHES,
    LABEL_STYLES,
    MANAGERS,
    URL_LABELS,
    LabelStyle,
    ManagerExport,
    firestore_jsonl,
    json_export,
    labelled_file,
    login_hash_lines,
    logins,
    manager_csv,
    netscape_cookies,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def read(tmp_path: Path, name: str, data: bytes) -> list[LeakedCredential | Problem]:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    ctx = ReadContext(limits=ArchiveLimits(), passwords=(), workdir=work)
    out = FileFeed().read(path, ctx, FeedTotals())
    return [r for r in out if isinstance(r, LeakedCredential | Problem)]


def creds(records: list[LeakedCredential | Problem]) -> list[LeakedCredential]:
    return [r for r in records if isinstance(r, LeakedCredential)]


@pytest.mark.parametrize(
    "name",
    ["Restore/Google_[Chrome]_Default Fresh Cookies.txt", "Cookies/cookies_Mozilla Firefox_x1z"],
)
def test_cookie_lines_under_any_name_are_cookies_never_passwords(tmp_path: Path, name: str) -> None:
    data = zip_bytes([(name, netscape_cookies("portal.example", ["sid", "auth"]).encode())])
    got = creds(read(tmp_path, "dump.zip", data))
    assert sorted((c.kind, c.host, c.cookie_name) for c in got) == [
        (CredentialKind.COOKIE, "portal.example", "auth"),
        (CredentialKind.COOKIE, "portal.example", "sid"),
    ]
    assert all(c.victim_folder for c in got)


@pytest.mark.parametrize("style", LABEL_STYLES)
@pytest.mark.parametrize("name", ["BRAND_Passwords.txt", "PasswordsList.txt", "FileZilla.txt"])
def test_labelled_blocks_are_read_whatever_the_file_name(
    tmp_path: Path, style: LabelStyle, name: str
) -> None:
    items = logins(3)
    got = creds(read(tmp_path, f"PC1/{name}", labelled_file(items, style).encode()))
    assert [(c.kind, c.url, c.login, c.secret) for c in got] == [
        (CredentialKind.PASSWORD, it.url, it.login, Secret(it.password)) for it in items
    ]


@pytest.mark.parametrize("url_label", URL_LABELS)
@pytest.mark.parametrize("style", ["colon", "equals", "indented"])
def test_every_url_label_spelling(url_label: str, style: LabelStyle) -> None:
    items = logins(2)
    text = labelled_file(items, style, url_label=url_label)
    got = list(parse_passwords(enumerate(text.splitlines(), 1)))
    assert [(e.url, e.login, e.secret) for e in got] == [
        (it.url, it.login, Secret(it.password)) for it in items
    ]


def test_sniff_content() -> None:
    assert sniff_content(PNG, "screenshot.txt") is Content.SCREENSHOT
    assert sniff_content(b"\x00\x01\x02" * 500, "x.bin") is Content.BINARY
    assert sniff_content(netscape_cookies("a.example", ["x"]).encode(), "x") is Content.COOKIES
    blocks = labelled_file(logins(2), "colon").encode()
    assert sniff_content(blocks, "readme.md") is Content.PASSWORD_BLOCKS
    assert sniff_content(b"https://a.example/:bob:pw\n" * 5, "Passwords.txt") is Content.TEXT


def test_screenshots_and_binaries_are_problems_not_records(tmp_path: Path) -> None:
    data = zip_bytes([("PC1/Screenshots/screen.png", PNG), ("PC1/blob.bin", b"\x00\x01" * 3000)])
    got = read(tmp_path, "dump.zip", data)
    assert sorted(r.reason for r in got if isinstance(r, Problem)) == [
        "binary skipped",
        "screenshot skipped",
    ]
    assert creds(got) == []


def test_passwords_json_in_a_victim_folder(tmp_path: Path) -> None:
    items = logins(2)
    data = zip_bytes([("PC-J/Browser_Chrome_Default/Passwords.json", json_export(items).encode())])
    got = creds(read(tmp_path, "dump.zip", data))
    assert [(c.login, c.url, c.feed) for c in got] == [
        (it.login, it.url, "stealer") for it in items
    ]
    assert all(c.victim_folder for c in got)


def test_json_array_and_nested_json_breach_files(tmp_path: Path) -> None:
    items = logins(3)
    got = creds(read(tmp_path, "users.json", json_export(items).encode()))
    assert [(c.kind, c.login, c.secret) for c in got] == [
        (CredentialKind.PASSWORD, it.login, Secret(it.password)) for it in items
    ]
    got = creds(read(tmp_path, "firestore.jsonl", firestore_jsonl(items).encode()))
    assert [(c.login, c.host, c.secret) for c in got] == [
        (it.login, "shape.example", Secret(it.password)) for it in items
    ]


def test_json_array_objects_split_across_chunks() -> None:
    items = logins(50)
    text = json_export(items)
    recs = list(breach._array_objects(io.StringIO(text), chunk=7))
    assert len(recs) == 50 and all(t is not None for _, t in recs)


@pytest.mark.parametrize("manager", MANAGERS)
def test_password_manager_exports(manager: ManagerExport) -> None:
    items = logins(3)
    text = manager_csv(items, manager)
    fmt = breach.sniff_corpus(text, "export.csv")
    got = [r for r in breach.parse_corpus(io.StringIO(text), origin="x", fmt=fmt)]
    assert [(r.kind, r.login, r.url, r.secret) for r in got if isinstance(r, LeakedCredential)] == [
        (CredentialKind.PASSWORD, it.login, it.url, Secret(it.password)) for it in items
    ]


@pytest.mark.parametrize("email", [True, False])
def test_login_hash_files_are_hashes_with_their_algorithm(tmp_path: Path, email: bool) -> None:
    got = creds(read(tmp_path, "hashes.txt", login_hash_lines(email=email).encode()))
    assert [(c.kind, c.hash_algorithm) for c in got] == [
        (CredentialKind.HASH, algorithm) for algorithm, _ in HASHES
    ]


@pytest.mark.parametrize(("algorithm", "value"), HASHES)
def test_hash_algorithm(algorithm: str, value: str) -> None:
    assert hash_algorithm(value) == algorithm


def test_self_describing_hash_in_a_password_column_is_a_hash() -> None:
    bcrypt = HASHES[3][1]
    text = f"email,password\na@x.example,{bcrypt}\nb@x.example,5f4dcc3b5aa765d61d8327deb882cf99\n"
    got = list(breach.parse_corpus(io.StringIO(text), origin="x", fmt="csv"))
    assert [(r.kind, r.hash_algorithm) for r in got if isinstance(r, LeakedCredential)] == [
        (CredentialKind.HASH, "bcrypt"),
        (CredentialKind.PASSWORD, None),  # bare hex among plaintext stays a password
    ]


def test_ulp_lines_with_a_crypt_hash_and_one_line_labels(tmp_path: Path) -> None:
    bcrypt = HASHES[3][1]
    text = (
        f"https://a.example/login:bob@a.example:{bcrypt}\n"
        "URL: https://a.example/x USER: carol@a.example PASS: Pw 1\n"
        "https://a.example/y:dave@a.example:5f4dcc3b5aa765d61d8327deb882cf99\n"
    )
    got = creds(read(tmp_path, "ulp.txt", text.encode()))
    assert [(c.kind, c.login, c.hash_algorithm) for c in got] == [
        (CredentialKind.HASH, "bob@a.example", "bcrypt"),
        (CredentialKind.PASSWORD, "carol@a.example", None),
        (CredentialKind.PASSWORD, "dave@a.example", None),
    ]


def test_android_record_without_its_scheme() -> None:
    rec = parse_ulp_line("QUJDREVGR0hJSktMTU5PUA==@com.shape.app/:u1@shape.example:Pw-1")
    assert rec is not None
    assert (rec.url, rec.login, rec.password) == (
        "android://QUJDREVGR0hJSktMTU5PUA==@com.shape.app/",
        "u1@shape.example",
        "Pw-1",
    )


@pytest.mark.parametrize("sysinfo_first", [True, False])
def test_a_browser_folder_of_any_name_takes_its_victims_facts(sysinfo_first: bool) -> None:
    from datetime import UTC, datetime

    from monitor.types import Match, Severity, VictimInfo
    from monitor.victims import Victims

    when = datetime(2025, 7, 29, 14, 27, tzinfo=UTC)
    victims = Victims(b"k")
    info = VictimInfo(folder="d.zip!PC1", infected_at=when, family="redline", country="US")
    cookie = LeakedCredential(
        kind=CredentialKind.COOKIE, url="https://a.example/", host="a.example", path="/",
        login="", secret=Secret("v" * 20), origin="d.zip!PC1/Restore/x Fresh Cookies.txt",
        cookie_name="sid", victim_folder="d.zip!PC1/Restore",
    )  # fmt: skip
    held = Match(credential=cookie, reasons=(), severity=Severity.LOW)
    # A sorted walk reads `PC1/Restore/...` before `PC1/System.txt`: both orders must work.
    steps = [victims.note(info), victims.hold(held)]
    released = [m for step in (steps if sysinfo_first else steps[::-1]) for m in step]
    assert released == []  # nothing leaves while the walk is still inside PC1
    (out,) = list(victims.flush())
    assert out.credential.infected_at == when
    assert out.credential.victim is not None
    assert (out.credential.victim.family, out.credential.victim.country) == ("redline", "US")
