"""The `local@domain` pairs of a chunk of lines, keyed in C-level passes, and the same key for an account.

A monitored account is an e-mail `local@domain`. In a chunk of whole lines, every `@` gives one
pair: the bytes after it up to the next field end (`domain`) and the bytes before it back to the
previous field end (`local`). The chunk is translated once (`TABLE`: ASCII letters lower-cased;
the bytes that end a login field — `: | ;`, quotes, ASCII white space, and every non-ASCII
byte — become a space), then two `@`-anchored `findall` give the domains (forward) and the
reversed locals (on the reversed chunk), and xxh3 keys each pair (`pair_keys`). No Python loop
runs per line or per token.

What must never be missed: a line whose parsed login canonicalises to a covered account. The
parsed login is a field between separators, and canonicalisation (`monitor.normalize`) strips
white space and quotes and lower-cases it, so its pair is the account's pair, except when the
reader changes more than that. Lines where it can are always candidates (`forced_starts`):
`%40` (decoded), C0/DEL control bytes and a CR inside a line (dropped by the ULP parser), and
the Kelvin sign (lower-cases to an ASCII `k`). No other non-ASCII character lower-cases to
ASCII, and cp1251 (the reader's fallback) decodes ASCII as ASCII. The translate marks control
bytes, so finding them is one `find` (memchr) per chunk, like `%40` and the Kelvin sign.

An account the pair key cannot cover (non-ASCII, holding a separator, a quote, a control byte,
or not exactly one `@` with text on both sides) is screened by a needle instead
(`needle_for`): its longest printable ASCII run, which every line holding it contains.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import repeat

from xxhash import xxh3_64_intdigest

# Bytes that end a login field in the translated chunk (all become a space).
_FIELD_ENDS = b"\x00\t\n\r :|;\"'"
# C0 controls the ULP parser drops from a login (all become MARK).
_CONTROLS = bytes([*range(1, 9), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
MARK = b"\x01"
_KELVIN = "\u212a".encode()


def _table() -> bytes:
    table = bytearray(range(256))
    for c in range(ord("A"), ord("Z") + 1):
        table[c] = c + 32
    for c in _FIELD_ENDS:
        table[c] = 0x20
    for c in range(0x80, 0x100):
        table[c] = 0x20
    for c in _CONTROLS:
        table[c] = MARK[0]
    return bytes(table)


TABLE = _table()
_AT = re.compile(rb"@([^ @]*)")
_LONE_CR = re.compile(rb"\r(?!\n)")
_PRINTABLE_RUN = re.compile(rb"[\x20-\x7e]+")


def pairs(chunk: bytes) -> tuple[bytes, list[bytes], list[bytes]]:
    """The translated chunk, the domain of every `@` and the reversed local part of every `@`
    (the latter in reverse order: `locals_[-1 - i]` goes with `domains[i]`)."""
    translated = chunk.translate(TABLE)
    domains = _AT.findall(translated)
    if not domains:
        return translated, domains, []
    return translated, domains, _AT.findall(translated[::-1])


def pair_keys(domains: list[bytes], reversed_locals: list[bytes], seed: int) -> list[int]:
    """One 64-bit key per `@` (see `pairs`), seeded from the HMAC key."""
    local_keys = map(xxh3_64_intdigest, reversed(reversed_locals), repeat(seed))
    return list(map(xxh3_64_intdigest, domains, local_keys))


def account_key(login: str, seed: int) -> int | None:
    """The key every line whose login canonicalises to `login` yields, or None when the
    account cannot be covered by pair keys (it needs a needle, `needle_for`)."""
    if not login.isascii():
        return None
    raw = login.encode("ascii")
    if any(c < 0x20 or c == 0x7F for c in raw):
        return None
    t = raw.translate(TABLE)
    if b" " in t or t.count(b"@") != 1:
        return None
    local, _, domain = t.partition(b"@")
    if not local or not domain:
        return None
    return xxh3_64_intdigest(domain, xxh3_64_intdigest(local[::-1], seed))


def token_of(domains: list[bytes], reversed_locals: list[bytes], i: int) -> bytes:
    """The translated `local@domain` bytes of pair `i` (to find its lines again)."""
    return reversed_locals[-1 - i][::-1] + b"@" + domains[i]


def needle_for(login: str) -> bytes | None:
    """A byte string every line holding `login` (in any case) contains: its longest printable
    ASCII run. None when it has none (the account can only be found by parsing every line)."""
    runs = _PRINTABLE_RUN.findall(login.encode("utf-8", "surrogateescape"))
    best = max(runs, key=len, default=b"")
    return best.lower() or None


def forced_starts(chunk: bytes, translated: bytes) -> Iterator[int]:
    """Starts of the lines whose login may canonicalise to an account without holding its
    pair: a control byte, `%40`, the Kelvin sign, or a CR that does not end the line."""
    for text, marker in ((translated, MARK), (translated, b"%40"), (chunk, _KELVIN)):
        pos = text.find(marker)
        while pos != -1:
            yield chunk.rfind(b"\n", 0, pos) + 1
            nl = chunk.find(b"\n", pos)
            pos = -1 if nl == -1 else text.find(marker, nl + 1)
    if b"\r" not in chunk or chunk.count(b"\r") == chunk.count(b"\r\n"):
        return
    for m in _LONE_CR.finditer(chunk):
        yield chunk.rfind(b"\n", 0, m.start()) + 1
