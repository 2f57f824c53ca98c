"""A mixed corpus of every shape, with planted hits, decoys and hostile archives, scanned end to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from feeds.reader import FileFeed
from monitor.config import load_config
from monitor.pipeline import Scanner, Sighting
from monitor.store.store import Store
from monitor.watchlist import build_watchlist
from tests.conftest import TEST_KEY
from tests.gen import archives
from tests.gen.stealer import ENCODINGS, FAMILIES, NEWLINES, victim_files, victim_folder

PORTAL = "https://portail-partenaire.francetravail.fr/kairos"
CONFIG = f"""
[organisation]
name = "France Travail"
domains = ["francetravail.fr", "pole-emploi.fr"]
portals = ["{PORTAL}"]

[[partners]]
name = "OF38"
email_domains = ["formation-isere.example"]

[accounts]
logins = ["jdupont.of38"]
"""
DECOY_URLS = [
    "https://francetravail.fr.evil-1.com/login",
    "https://notfrancetravail.fr/",
    "https://francetravail.fr@evil.example.com/",
    "https://evil.example.com/?next=francetravail.fr",
    "https://xn--francetravai-8mb.fr/",
    "https://evil.example.com/francetravail.fr/",
]
DECOY_LOGIN = "decoy.user@gmail.com"


def build_corpus(root: Path) -> dict[str, int]:
    """Write the corpus; return planted login → how many sightings it must give."""
    planted: dict[str, int] = {}
    dumps = root / "dumps"
    dumps.mkdir(parents=True)

    def plant(login: str, times: int = 1) -> str:
        planted[login] = planted.get(login, 0) + times
        return login

    # Stealer logs: every family, cycling encodings and newline styles, in one reseller archive
    # with a wrapper folder; one victim nested in an inner zip; noise files everywhere.
    outer: dict[str, bytes] = {}
    inner: dict[str, bytes] = {}
    base = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)
    for i, family in enumerate(FAMILIES):
        hwid = f"{i:02d}B68E8B4439C38B4A31EED51984{i:04d}"
        when = base + timedelta(days=i)
        creds = [
            ("https://www.netflix.com/login", f"viewer{i}@gmail.com", f"Nf!{i}pw"),
            (f"{PORTAL}/login", plant(f"{family}.agent@gmail.com"), f"Kairos#{i}x"),
            (DECOY_URLS[i % len(DECOY_URLS)], DECOY_LOGIN, f"Decoy{i}!"),
            (
                "https://webmail.example.net/",
                plant(f"{family}@formation-isere.example"),
                f"Mail{i}?",
            ),
        ]
        files = victim_files(
            family,
            creds=creds,
            infected_at=when,
            cookies=[(".portail-partenaire.francetravail.fr", "JSESSIONID", f"cookie-{i}-value")],
            encoding=ENCODINGS[i % len(ENCODINGS)],
            newline=NEWLINES[i % len(NEWLINES)],
            hwid=hwid,
        )
        plant(f"cookie:{family}")
        folder = victim_folder(family, hwid=hwid, infected_at=when)
        target = inner if family == "vidar" else outer
        for name, data in files.items():
            target[f"CLOUD LOGS/{folder}/{name}"] = data
    outer["Part2/inner.zip"] = archives.zip_bytes(list(inner.items()))
    outer["../evil.txt"] = f"{PORTAL}:{plant('traversal@gmail.com')}:pw1\n".encode()
    (dumps / "resale.zip").write_bytes(archives.zip_bytes(list(outer.items())))

    # ULP bases: every separator and order, scheme-less, ports, quotes, android, combos.
    ulp = [
        f"https://candidat.francetravail.fr/espace:{plant('ulp.colon@gmail.com')}:p:w:1",
        f"candidat.francetravail.fr:{plant('ulp.noscheme@gmail.com')}:pw2",
        f"https://CANDIDAT.FRANCETRAVAIL.FR.:8443/x:{plant('ulp.port@gmail.com')}:pw3",
        f'"{PORTAL}":{plant("ulp.quoted@gmail.com")}:pw4',
        f"android://c2ln==@fr.francetravail.mobile/:{plant('ulp.android@gmail.com')}:pw5",
        f"https://www.pole-emploi.fr/ | {plant('ulp.pipe@gmail.com')} | pw|6",
        f"https://www.pole-emploi.fr/;{plant('ulp.semi@gmail.com')};pw7",
        f"https://www.pole-emploi.fr/\t{plant('ulp.tab@gmail.com')}\tpw8",
        f"{plant('ulp.last@gmail.com')}:pw9:https://candidat.francetravail.fr/",
        f"{plant('combo@formation-isere.example')}:pw10",
        f"https://shop.example.com/:{plant('jdupont.of38')}:pw11",
        *(f"{u}:{DECOY_LOGIN}:decoy{n}" for n, u in enumerate(DECOY_URLS)),
        f"https://shop.example.com/:someone@gmail.com:francetravail.fr-{len(ULP_TAIL)}",
        *ULP_TAIL,
    ]
    (dumps / "base_crlf.txt").write_bytes(("\r\n".join(ulp) + "\r\n").encode())
    utf16 = f"https://francetravail.fr/:{plant('ulp.utf16@gmail.com')}:pw12\n"
    (dumps / "base_utf16.txt").write_bytes(b"\xff\xfe" + utf16.encode("utf-16-le"))
    junky = (
        b"\x00\x01\x02binary junk francetravail.fr\n"
        + b"x" * (2 << 20)
        + b" francetravail.fr\n"
        + f"https://francetravail.fr/:{plant('after.junk@gmail.com')}:pw13\n".encode()
    )
    (dumps / "junky.txt").write_bytes(junky)

    # Breach corpora.
    (dumps / "breach.csv").write_text(
        "id;Email;Password;Website\n"
        f'1;{plant("csv.user@formation-isere.example")};"multi\nline";https://x.example\n'
        f"2;{DECOY_LOGIN};pw;https://francetravail.fr.evil-2.com\n"
    )
    (dumps / "breach.jsonl").write_text(
        f'{{"user": {{"email": "{plant("json.user@formation-isere.example")}"}}, "pass": "j1"}}\n'
        "{not json\n"
    )
    (dumps / "hashes.txt").write_text(
        f"{plant('hash.user%40formation-isere.example')}:{'ab' * 20}\n{DECOY_LOGIN}:{'cd' * 20}\n"
    )

    # Hostile archives: a bomb, a corrupt member next to a good one, a truncated archive.
    (dumps / "bomb.zip").write_bytes(archives.zip_of_zeros("zeros.txt", 60 << 20))
    good = {
        "good.txt": f"https://francetravail.fr/:{plant('beside.corrupt@gmail.com')}:pw14\n".encode()
    }
    bad = {"bad.txt": b"https://francetravail.fr/:corrupt@gmail.com:x\n" * 200}
    (dumps / "corrupt.zip").write_bytes(
        archives.flip_deflated_byte([*bad.items(), *good.items()], "bad.txt")
    )
    return planted


ULP_TAIL = [f"https://site{n}.example.org/login:user{n}@mail.example:pw{n}" for n in range(300)]


async def test_mixed_corpus(pool: asyncpg.Pool, tmp_path: Path, workdir: Path) -> None:
    planted = build_corpus(tmp_path)
    cfg = tmp_path / "credwatch.toml"
    cfg.write_text(CONFIG)
    config = load_config(cfg)
    before = archives.listing(tmp_path)
    scanner = Scanner(
        Store(pool),
        config,
        build_watchlist(config),
        feed=FileFeed(),
        key=TEST_KEY,
        channels=["console"],
        workdir=workdir,
    )
    found: list[Sighting] = []
    problems: list[str] = []
    results = await scanner.scan(
        [tmp_path / "dumps"],
        on_sighting=found.append,
        on_problem=lambda p: problems.append(f"{p.origin}: {p.reason}"),
    )
    logins = [s.match.credential.login for s in found if s.match.credential.kind.value != "cookie"]
    cookies = [s for s in found if s.match.credential.kind.value == "cookie"]
    expected_logins = {k: v for k, v in planted.items() if not k.startswith("cookie:")}
    canonical = {k.replace("%40", "@"): v for k, v in expected_logins.items()}
    got: dict[str, int] = {}
    for login in logins:
        got[login] = got.get(login, 0) + 1
    assert got == canonical  # every planted credential once per sighting, no decoy
    assert DECOY_LOGIN not in got
    assert len(cookies) == len(FAMILIES)
    assert {c.match.credential.cookie_name for c in cookies} == {"JSESSIONID"}
    # Infection dates come from each family's system-info file; Raccoon's carries none, and the
    # ULP line hidden under a traversal name has none either.
    in_resale = [
        s.match.credential
        for s in found
        if s.match.credential.origin.startswith(str(tmp_path / "dumps" / "resale.zip"))
    ]
    undated = sorted((c.kind.value, c.login) for c in in_resale if c.infected_at is None)
    assert undated == [
        ("cookie", ""),
        ("password", "raccoon.agent@gmail.com"),
        ("password", "raccoon@formation-isere.example"),
        ("password", "traversal@gmail.com"),
    ]
    assert all(c.victim and c.victim.machine_id_hash for c in in_resale if c.infected_at)
    nested = [s for s in found if "!Part2/inner.zip!CLOUD LOGS/" in s.match.credential.origin]
    assert {s.match.credential.login for s in nested} >= {"vidar.agent@gmail.com"}
    # Bad input is reported and skipped; the scan goes on.
    text = "\n".join(problems)
    assert "bomb.zip" in text and "corrupt.zip!bad.txt" in text
    assert results[0].totals.skipped_lines >= 1
    # Nothing written outside the work directory, and the work directory is left clean.
    assert archives.listing(tmp_path) == before
    assert list(workdir.iterdir()) == []
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()
