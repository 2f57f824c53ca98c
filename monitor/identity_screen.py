"""The screen of a scan watching a large account list: bloom-positive `@` pairs plus needles.

A line is a candidate when it holds a watched needle (domains, the accounts the pair key cannot
cover, `%40`, the Kelvin sign), a byte that canonicalisation may drop
(`identity_tokens.forced_starts`), or an `@` pair the account bloom may hold. Per 8 MiB chunk: one translate, one `findall` and one xxh3 `map` (the domains), a set
test of the domain keys, the local parts of the `@`s at an account's domain, the bloom's bulk
test of those pairs, one needle scan (Hyperscan), and a few `find`s per bloom positive to get
its line back. The
exact account check happens later, on the parsed login (`IdentityIndex.account`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from itertools import compress, count
from typing import Protocol

from monitor.feed import Screen
from monitor.identity_index import IdentityIndex
from monitor.identity_source import IdentitySource
from monitor.identity_tokens import (
    FORCED_NEEDLES,
    TABLE,
    at_positions,
    domain_keys,
    domains_of,
    forced_starts,
    local_before,
    lone_cr_starts,
    pair_key,
    pair_keys,
    reversed_locals,
)
from monitor.screen import build_screen

USE_HYPERSCAN = True  # False: the portable path (tests compare both)


class DomainScannerLike(Protocol):
    def scan(self, chunk: bytes) -> tuple[list[tuple[int, int]], list[int]]: ...


# Up to this many `@`s at an account's domain in a chunk, their local parts are read one by
# one; above, one `findall` over the reversed chunk reads every `@`'s.
LOCAL_BY_LOCAL = 3000


class IdentityScreen:
    """Same contract as ByteScreen: sorted starts of every line that may match (never fewer).
    The account screen is opened on the first chunk, so building a scanner costs nothing."""

    __slots__ = ("_domain_needles", "_lock", "_ready", "_scanner", "_source")

    def __init__(self, source: IdentitySource, domain_needles: Sequence[bytes]) -> None:
        self._source = source
        self._domain_needles = tuple(domain_needles)
        self._ready: tuple[IdentityIndex, Screen] | None = None
        self._scanner: DomainScannerLike | None = None
        self._lock = threading.Lock()

    def _prepared(self) -> tuple[IdentityIndex, Screen]:
        with self._lock:
            if self._ready is None:
                index = self._source.index()
                needles = (*self._domain_needles, *index.needles, *FORCED_NEEDLES)
                self._scanner = _scanner(index) if USE_HYPERSCAN else None
                self._ready = (index, build_screen(needles))
            return self._ready

    def line_starts(self, chunk: bytes) -> list[int]:
        """Sorted start offsets of the lines in `chunk` (whole lines) that may match."""
        index, needles = self._prepared()
        if index.full_pass:
            return _every_line(chunk)
        starts = set(needles.line_starts(chunk))
        if self._scanner is not None:
            starts.update(_scanned_starts(index, self._scanner, chunk))
            return sorted(starts)
        translated, domains = domains_of(chunk)
        starts.update(forced_starts(chunk, translated))
        if domains:
            starts.update(_pair_starts(index, chunk, translated, domains))
        return sorted(starts)


def _scanned_starts(index: IdentityIndex, scanner: DomainScannerLike, chunk: bytes) -> list[int]:
    """With Hyperscan: the `@`s at an account's domain and the control bytes come from one
    scan; only those `@`s are keyed."""
    ats, controls = scanner.scan(chunk)
    starts = [chunk.rfind(b"\n", 0, pos) + 1 for pos in controls]
    starts.extend(lone_cr_starts(chunk))
    if not ats:
        return starts
    line_of: list[int] = []
    keys: list[int] = []
    for at, i in ats:
        line = chunk.rfind(b"\n", 0, at) + 1
        local = chunk[line:at].translate(TABLE)
        local = local[max(local.rfind(b" "), local.rfind(b"@")) + 1 :]
        keys.append(pair_key(local, index.domains[i], index.seed))
        line_of.append(line)
    starts.extend(line_of[j] for j in index.bloom.positives(keys))
    return starts


def _scanner(index: IdentityIndex) -> DomainScannerLike | None:
    try:
        from monitor.identity_hyper import DomainScanner
    except ImportError:  # no Hyperscan wheel here: the portable path
        return None
    return DomainScanner(index.domains, index.scanner_db)


def _pair_starts(
    index: IdentityIndex, chunk: bytes, translated: bytes, domains: list[bytes]
) -> list[int]:
    """Starts of the lines holding an `@` pair the bloom may hold."""
    at_account_domain = map(index.domain_keys.__contains__, domain_keys(domains, index.seed))
    wanted = list(compress(count(), at_account_domain))
    if not wanted:
        return []
    if len(wanted) <= LOCAL_BY_LOCAL:
        ats = at_positions(translated, wanted)
        keys = [
            pair_key(local_before(translated, at), domains[i], index.seed)
            for i, at in zip(wanted, ats, strict=True)
        ]
        found = [ats[j] for j in index.bloom.positives(keys)]
    else:
        keys = pair_keys(domains, reversed_locals(translated), index.seed)
        found = at_positions(translated, index.bloom.positives(keys))
    return [chunk.rfind(b"\n", 0, at) + 1 for at in found]


def _every_line(chunk: bytes) -> list[int]:
    starts = [0]
    pos = chunk.find(b"\n")
    while pos != -1 and pos + 1 < len(chunk):
        starts.append(pos + 1)
        pos = chunk.find(b"\n", pos + 1)
    return starts
