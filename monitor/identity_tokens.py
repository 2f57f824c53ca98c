"""The `local@domain` pairs of a chunk of lines, keyed in C-level passes, and the same key for an account.

A monitored account is an e-mail `local@domain`. In a chunk of whole lines, every `@` gives one
pair: the bytes after it up to the next field end (`domain`) and the bytes before it back to the
previous field end (`local`). The chunk is translated once (`TABLE`: ASCII letters lower-cased;
the bytes that end a login field — `: | ;`, quotes, ASCII white space, and every non-ASCII
byte — become a space), an `@`-anchored `findall` gives the domains, and xxh3 keys them
(`domain_keys`). Only the `@`s whose domain is an account's need their local part: taken one
by one when they are few (`at_positions`, `local_before`), else for every `@` by a second
`findall` on the reversed chunk (`reversed_locals`). Then each pair is keyed (`pair_key`,
`pair_keys`). No Python loop runs per line or per token.

What must never be missed: a line whose parsed login canonicalises to a covered account. The
parsed login is a field between separators, and canonicalisation (`monitor.normalize`) strips
white space and quotes and lower-cases it, so its pair is the account's pair, except when the
reader changes more than that. Lines where it can are always candidates: `%40` (decoded) and
the Kelvin sign (lower-cases to an ASCII `k`) are needles (`FORCED_NEEDLES`); C0/DEL control
bytes and a CR inside a line (dropped by the ULP parser) are found by `forced_starts` (the
translate marks control bytes: one memchr per chunk). No other non-ASCII character
lower-cases to ASCII, and cp1251 (the reader's fallback) decodes ASCII as ASCII.

An account the pair key cannot cover (non-ASCII, holding a separator, a quote, a control byte,
or not exactly one `@` with text on both sides) is screened by a needle instead
(`needle_for`): its longest printable ASCII run, which every line holding it contains.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from itertools import accumulate, repeat

from xxhash import xxh3_64_intdigest

# Bytes that end a login field in the translated chunk (all become a space).
_FIELD_ENDS = b"\x00\t\n\r :|;\"'"
# C0 controls the ULP parser drops from a login (all become MARK).
_CONTROLS = bytes([*range(1, 9), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
MARK = b"\x01"
FORCED_NEEDLES = (b"%40", "\u212a".encode())  # Kelvin sign


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
_AT = re.compile(rb"[^@]*@([^ @]*)")  # every `@` once; faster than a leading `@`
_COARSE = 1 << 18
_FINE = 1 << 12
_LONE_CR = re.compile(rb"\r(?!\n)")
_PRINTABLE_RUN = re.compile(rb"[\x20-\x7e]+")


def domains_of(chunk: bytes) -> tuple[bytes, list[bytes]]:
    """The translated chunk and the domain part of every `@` in it, in order."""
    translated = chunk.translate(TABLE)
    return translated, _AT.findall(translated)


def reversed_locals(translated: bytes) -> list[bytes]:
    """The reversed local part of every `@`, last `@` first (`[-1 - i]` goes with domain i)."""
    return _AT.findall(translated[::-1])


def domain_keys(domains: list[bytes], seed: int) -> Iterator[int]:
    return map(xxh3_64_intdigest, domains, repeat(seed))


def pair_keys(domains: list[bytes], rev_locals: list[bytes], seed: int) -> list[int]:
    """One 64-bit key per `@` (domain i with local part `rev_locals[-1 - i]`)."""
    local_keys = map(xxh3_64_intdigest, reversed(rev_locals), repeat(seed))
    return list(map(xxh3_64_intdigest, domains, local_keys))


def pair_key(local: bytes, domain: bytes, seed: int) -> int:
    """The key of one pair (`local` in reading order)."""
    return xxh3_64_intdigest(domain, xxh3_64_intdigest(local[::-1], seed))


def at_positions(translated: bytes, indexes: Sequence[int]) -> list[int]:
    """Where the i-th `@` of the chunk is, for each i of `indexes` (ascending): `@` counts per
    coarse block (C-level), then per fine block inside one, then a few `find`s."""
    ends = list(
        accumulate(
            translated.count(b"@", a, a + _COARSE) for a in range(0, len(translated), _COARSE)
        )
    )
    out = []
    for i in indexes:
        block = bisect_right(ends, i)
        seen = ends[block - 1] if block else 0
        start = block * _COARSE
        while True:  # fine blocks of the coarse one
            n = translated.count(b"@", start, start + _FINE)
            if seen + n > i:
                break
            seen += n
            start += _FINE
        pos = start - 1
        for _ in range(i - seen + 1):
            pos = translated.find(b"@", pos + 1)
        out.append(pos)
    return out


def local_before(translated: bytes, at: int) -> bytes:
    """The local part of the `@` at `at` (back to a field end or another `@`)."""
    start = translated.rfind(b" ", 0, at) + 1
    other = translated.rfind(b"@", start, at)
    return translated[(other + 1 if other != -1 else start) : at]


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
    return pair_key(local, domain, seed)


def account_domain(login: str) -> bytes:
    """The translated domain part of a login `account_key` covers."""
    return login.encode("ascii").translate(TABLE).partition(b"@")[2]


def domain_key(domain: bytes, seed: int) -> int:
    return int(xxh3_64_intdigest(domain, seed))


def needle_for(login: str) -> bytes | None:
    """A byte string every line holding `login` (in any case) contains: its longest printable
    ASCII run. None when it has none (the account can only be found by parsing every line)."""
    runs = _PRINTABLE_RUN.findall(login.encode("utf-8", "surrogateescape"))
    best = max(runs, key=len, default=b"")
    return best.lower() or None


def forced_starts(chunk: bytes, translated: bytes) -> Iterator[int]:
    """Starts of the lines whose login may canonicalise to an account without holding its
    pair (besides `FORCED_NEEDLES`): a control byte, or a CR that does not end the line."""
    pos = translated.find(MARK)
    while pos != -1:
        yield chunk.rfind(b"\n", 0, pos) + 1
        nl = chunk.find(b"\n", pos)
        pos = -1 if nl == -1 else translated.find(MARK, nl + 1)
    yield from lone_cr_starts(chunk)


def lone_cr_starts(chunk: bytes) -> Iterator[int]:
    """Starts of the lines holding a CR that does not end the line."""
    if b"\r" not in chunk or chunk.count(b"\r") == chunk.count(b"\r\n"):
        return
    for m in _LONE_CR.finditer(chunk):
        yield chunk.rfind(b"\n", 0, m.start()) + 1
