"""Generates synthetic breach corpora (CSV, JSON lines, email:hash) with the records they hold."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import string
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Field = Literal["email", "password", "hash", "url"]
HashKind = Literal["md5", "sha1", "sha256", "sha512", "bcrypt"]
HASH_KINDS: tuple[HashKind, ...] = ("md5", "sha1", "sha256", "sha512", "bcrypt")
_BCRYPT_ALPHABET = "./" + string.ascii_letters + string.digits
# Passwords that trip naive parsers: delimiters, quotes, a line break, non-ASCII, spaces.
TRICKY_PASSWORDS = (
    'pa,ss"word',
    "semi;colon|pipe\ttab",
    "two\nlines",
    "  spaced  ",
    "Pässwörd-€",
    "colon:inside",
    "{json}",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class BreachRow:
    """One synthetic breach record (no real person: names and domains are invented)."""

    email: str
    password: str | None = None
    hash: str | None = None
    url: str | None = None


def fake_hash(kind: HashKind, password: str, *, rng: random.Random) -> str:
    """A digest of `password` in the given format (bcrypt: a well-formed random string)."""
    data = password.encode()
    if kind == "bcrypt":
        cost = rng.choice((10, 12))
        variant = rng.choice("aby")
        body = "".join(rng.choice(_BCRYPT_ALPHABET) for _ in range(53))
        return f"$2{variant}${cost:02d}${body}"
    return hashlib.new(kind, data).hexdigest()


def fake_rows(
    n: int,
    *,
    seed: int = 0,
    domains: Sequence[str] = ("partner.example", "example.org", "mail.example.net"),
    sites: Sequence[str] = (
        "https://portail-partenaire.example.org/kairos",
        "https://www.example.net/login",
        "shop.example.com",
    ),
    with_password: bool = True,
    with_hash: bool = False,
    with_url: bool = True,
    tricky: bool = False,
) -> list[BreachRow]:
    """`n` deterministic rows; with `tricky`, every third password is a hostile one."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        user = "".join(rng.choice(string.ascii_lowercase) for _ in range(6)) + str(i)
        password = f"Pw{rng.randrange(10**6):06d}!{i}"
        if tricky and i % 3 == 0:
            password = TRICKY_PASSWORDS[(i // 3) % len(TRICKY_PASSWORDS)]
        rows.append(
            BreachRow(
                email=f"{user}@{domains[i % len(domains)]}",
                password=password if with_password else None,
                hash=fake_hash(HASH_KINDS[i % len(HASH_KINDS)], password, rng=rng)
                if with_hash
                else None,
                url=sites[i % len(sites)] if with_url else None,
            )
        )
    return rows


def _value(row: BreachRow, name: Field) -> str:
    value = {"email": row.email, "password": row.password, "hash": row.hash, "url": row.url}[name]
    return value or ""


def write_csv(
    rows: Sequence[BreachRow],
    *,
    columns: Mapping[Field, str],
    delimiter: str = ",",
    header: bool = True,
    lineterminator: str = "\r\n",
) -> str:
    """CSV text; `columns` maps each field to its header name, in column order."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator=lineterminator)
    if header:
        writer.writerow(list(columns.values()))
    for row in rows:
        writer.writerow([_value(row, name) for name in columns])
    return out.getvalue()


def csv_start_lines(text: str, *, delimiter: str = ",") -> list[int]:
    """1-based line where each data record of a CSV text starts (header skipped)."""
    starts: list[int] = []
    line = 1
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for _ in reader:
        starts.append(line)
        line = reader.line_num + 1
    return starts[1:]


JsonLayout = Literal["flat", "nested", "upper", "list", "variant"]


def json_object(row: BreachRow, layout: JsonLayout) -> dict[str, Any]:
    """One record under a key layout seen in the wild."""
    if layout == "nested":
        return {"user": {"email": row.email, "password": row.password}, "source": {"url": row.url}}
    if layout == "upper":
        return {"EMAIL": row.email, "PASSWORD": row.password, "URL": row.url, "IP": "192.0.2.1"}
    if layout == "list":
        return {"email_address": row.email, "passwords": [row.password], "website": row.url}
    if layout == "variant":
        return {"E-Mail": row.email, "Pass": row.password, "Domain": row.url, "id": 7}
    return {"email": row.email, "password": row.password, "url": row.url}


def write_jsonl(rows: Sequence[BreachRow], *, layout: JsonLayout = "flat") -> str:
    return "".join(json.dumps(json_object(r, layout), ensure_ascii=False) + "\n" for r in rows)


def write_email_hash(
    rows: Sequence[BreachRow], *, separator: str = ":", encode_at: bool = False
) -> str:
    """`email:hash` lines; `encode_at` writes the `@` as `%40` as some dumps do."""
    lines = []
    for row in rows:
        email = row.email.replace("@", "%40") if encode_at else row.email
        lines.append(f"{email}{separator}{row.hash}\n")
    return "".join(lines)


def csv_chunks(n: int, *, seed: int = 0, chunk_rows: int = 10_000) -> Iterator[str]:
    """A large CSV, produced in pieces (for throughput and memory measurements)."""
    yield "email,password,url\r\n"
    for start in range(0, n, chunk_rows):
        rows = fake_rows(min(chunk_rows, n - start), seed=seed + start)
        yield write_csv(
            rows, columns={"email": "email", "password": "password", "url": "url"}, header=False
        )
