"""A generated dump library for domain lookups: one unwatched domain's credentials in each role,
lookalike decoys, a watched domain's credential, and noise. Everything invented.

    lib = write_library(root)          # root/logs.zip (stealer logs), root/combo.txt (ULP)
    lib.expected[Role.EMPLOYEE]        # {login, ...} the lookup must count, role by role
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from monitor.domain_lookup import Role
from tests.gen.archives import zip_bytes
from tests.gen.stealer import victim_files, victim_folder, with_prefix

DOMAIN = "acme-partner.example"
WATCHED = "example.org"  # the configuration's own domain
TOKEN = "Zk9xT2w0cDNuUmVzZXQxMjM0NTY3ODkw"  # a reset-link token: must never be shown


@dataclass(frozen=True, slots=True, kw_only=True)
class Library:
    root: Path
    paths: tuple[Path, ...]
    expected: dict[Role, set[str]]  # login → role, what a lookup of DOMAIN must count
    passwords: tuple[str, ...]  # every password planted: none may appear anywhere
    decoy_logins: tuple[str, ...]
    infected: dict[str, datetime] = field(default_factory=dict)  # family → infection date


def _pw(rng: random.Random) -> str:
    return "Pw!" + "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(12))


def write_library(root: Path, *, seed: int = 14, noise: int = 2000) -> Library:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    passwords: list[str] = []

    def pw() -> str:
        passwords.append(_pw(rng))
        return passwords[-1]

    d = DOMAIN
    redline_at = datetime(2025, 3, 14, 9, 30, 0, tzinfo=UTC)
    lumma_at = datetime(2025, 5, 2, 18, 5, 0, tzinfo=UTC)
    victim_a = [
        ("https://www.linkedin.com/login", f"alice@{d}", pw()),  # employee elsewhere
        (f"https://portal.{d}/login?next=/home&session=abc", "bob@gmail.com", pw()),  # user
        (f"https://portal.{d}/reset/{TOKEN}", "carol@supplier.example", pw()),  # third party
        (f"https://{d}.evil.com/login", f"mallory@{d}.evil.com", pw()),  # decoys
        (f"https://not{d}/login", f"trudy@not{d}", pw()),
        (f"https://portal.{WATCHED}/", f"staff@{WATCHED}", pw()),  # the watched domain's
    ]
    victim_b = [
        (f"https://mail.{d}/", f"dave@sub.{d}", pw()),  # employee (sub-domain mailbox) at home
        ("https://shop.example.net/", f"erin@{d}.evil", pw()),  # decoy
        (f"https://www.{d}.evil/", f"oscar@{d}", pw()),  # employee, lookalike site
    ]
    members: dict[str, bytes] = {}
    folder_a = victim_folder(
        "redline", hwid="A1B2C3D4E5F60718293A4B5C6D7E8F90", infected_at=redline_at, country="FR"
    )
    members |= with_prefix(
        folder_a,
        victim_files(
            "redline",
            creds=victim_a,
            infected_at=redline_at,
            hwid="A1B2C3D4E5F60718293A4B5C6D7E8F90",
            country="FR",
            noise=False,  # its Brute.txt repeats a login with another password
        ),
    )
    folder_b = victim_folder(
        "lumma", hwid="0F1E2D3C4B5A69788796A5B4C3D2E1F0", infected_at=lumma_at, country="DE"
    )
    members |= with_prefix(
        folder_b,
        victim_files(
            "lumma",
            creds=victim_b,
            infected_at=lumma_at,
            hwid="0F1E2D3C4B5A69788796A5B4C3D2E1F0",
            country="DE",
            noise=False,
        ),
    )
    logs = root / "logs.zip"
    logs.write_bytes(zip_bytes(sorted(members.items())))

    rows = [
        f"https://intranet.{d}/login:frank:{pw()}",  # user: bare username
        f"https://{d}/:grace@partner-two.example:{pw()}",  # third party
        f"https://netflix.com/:heidi@{d}:{pw()}",  # employee elsewhere
        f"android://Xk9Q@{'.'.join(reversed(d.split('.')))}.app/:ivy@yahoo.fr:{pw()}",  # user
        f"https://{d}.evil.com/:ivan@gmail.com:{pw()}",  # decoys
        f"https://not{d}/login:judy@{d}.evil.com:{pw()}",
        f"https://www.{d}.evil/:kim@not{d}:{pw()}",
        f"https://sso.{WATCHED}/:someone@{WATCHED}:{pw()}",  # the watched domain's
    ]
    for i in range(noise):
        rows.append(f"https://shop{i % 97}.example.net/account:buyer{i}@mail.example:{_pw(rng)}")
    rng.shuffle(rows)
    combo = root / "combo.txt"
    combo.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return Library(
        root=root,
        paths=(logs, combo),
        expected={
            Role.EMPLOYEE: {f"alice@{d}", f"dave@sub.{d}", f"oscar@{d}", f"heidi@{d}"},
            Role.USER: {"bob@gmail.com", "frank", "ivy@yahoo.fr"},
            Role.THIRD_PARTY: {"carol@supplier.example", "grace@partner-two.example"},
        },
        passwords=tuple(passwords),
        decoy_logins=(
            f"mallory@{d}.evil.com",
            f"trudy@not{d}",
            f"erin@{d}.evil",
            "ivan@gmail.com",
            f"judy@{d}.evil.com",
            f"kim@not{d}",
        ),
        infected={"redline": redline_at, "lumma": lumma_at},
    )
