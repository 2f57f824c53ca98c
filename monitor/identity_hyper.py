"""The accounts' e-mail domains as one Hyperscan database: every `@domain` of a chunk that is an
account's domain, and every control byte, in one SIMD pass.

Pattern `i` is the literal `@` + account domain `i`, case-insensitive (20,000 domains compile in
about 0.5 s into 3 MB); a match counts when a field end (what `identity_tokens.TABLE` turns into
a space, or `@`) or the end of the chunk follows it. The last pattern is the class of control
bytes the ULP parser drops. The database is compiled with the screen and kept in its file
(`dump`); a machine whose Hyperscan cannot load it compiles it again.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import hyperscan

from monitor.identity_tokens import TABLE

# What ends a domain: a byte the translate turns into a space, or another `@`.
_FIELD_END = frozenset(c for c in range(256) if TABLE[c] == 0x20) | {0x40}
_CONTROL = rb"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]"


def _escaped(text: bytes) -> bytes:
    return b"".join(bytes([c]) if chr(c).isalnum() else b"\\x%02x" % c for c in text)


def _compile(domains: Sequence[bytes]) -> hyperscan.Database:
    patterns = [b"@" + _escaped(d) for d in domains] + [_CONTROL]
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(
        expressions=patterns,
        ids=list(range(len(patterns))),
        elements=len(patterns),
        flags=[hyperscan.HS_FLAG_CASELESS] * len(patterns),
    )
    return db


def dump(domains: Sequence[bytes]) -> bytes:
    """The compiled database of `domains`, serialized (to keep in the screen file)."""
    return bytes(hyperscan.dumpb(_compile(domains)))


class DomainScanner:
    """`scan(chunk)`: positions of the `@`s at an account's domain (with the domain's index),
    and positions of control bytes."""

    __slots__ = ("_db", "_domains", "_local")

    def __init__(self, domains: Sequence[bytes], serialized: bytes = b"") -> None:
        self._domains = tuple(domains)
        db = None
        if serialized:
            try:
                db = hyperscan.loadb(serialized, hyperscan.HS_MODE_BLOCK)
            except hyperscan.HyperscanError:
                db = None  # another platform's database: compiled again below
        self._db = db if db is not None else _compile(self._domains)
        self._local = threading.local()

    def scan(self, chunk: bytes) -> tuple[list[tuple[int, int]], list[int]]:
        """([(position of `@`, domain index)], [position of a control byte])."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = hyperscan.Scratch(self._db)
            self._local.scratch = scratch
        ats: list[tuple[int, int]] = []
        controls: list[int] = []
        domains = self._domains
        n, size = len(domains), len(chunk)

        def hit(i: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
            if i == n:
                controls.append(end - 1)
                return
            if end == size or chunk[end] in _FIELD_END:  # not a longer domain
                ats.append((end - len(domains[i]) - 1, i))

        if chunk:
            self._db.scan(chunk, match_event_handler=hit, scratch=scratch)
        return ats, controls
