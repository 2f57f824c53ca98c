"""The screen of a scan watching a large account list: bloom-positive `@` pairs plus needles.

A line is a candidate when it holds a watched needle (domains, the accounts the pair key cannot
cover), a byte that canonicalisation may drop or fold (`identity_tokens.forced_starts`), or an
`@` pair the account bloom may hold. Per 8 MiB chunk: one translate, two `findall`, two xxh3 `map` passes, the bloom's bulk
test, one needle scan (Hyperscan), and a `find` per bloom positive to get its line back. The
exact account check happens later, on the parsed login (`IdentityIndex.account`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from itertools import accumulate, count
from operator import add

from monitor.feed import Screen
from monitor.identity_index import IdentityIndex
from monitor.identity_source import IdentitySource
from monitor.identity_tokens import forced_starts, pair_keys, pairs, token_of
from monitor.screen import build_screen

# Up to this many bloom positives in a chunk, finding each pair's text again beats locating
# every `@` of the chunk.
FIND_LIMIT = 4


class IdentityScreen:
    """Same contract as ByteScreen: sorted starts of every line that may match (never fewer).
    The account screen is opened on the first chunk, so building a scanner costs nothing."""

    __slots__ = ("_domain_needles", "_lock", "_ready", "_source")

    def __init__(self, source: IdentitySource, domain_needles: Sequence[bytes]) -> None:
        self._source = source
        self._domain_needles = tuple(domain_needles)
        self._ready: tuple[IdentityIndex, Screen | None] | None = None
        self._lock = threading.Lock()

    def _prepared(self) -> tuple[IdentityIndex, Screen | None]:
        with self._lock:
            if self._ready is None:
                index = self._source.index()
                needles = (*self._domain_needles, *index.needles)
                self._ready = (index, build_screen(needles) if needles else None)
            return self._ready

    def line_starts(self, chunk: bytes) -> list[int]:
        """Sorted start offsets of the lines in `chunk` (whole lines) that may match."""
        index, needles = self._prepared()
        if index.full_pass:
            return _every_line(chunk)
        starts = set(needles.line_starts(chunk)) if needles is not None else set()
        translated, domains, rev_locals = pairs(chunk)
        starts.update(forced_starts(chunk, translated))
        if domains:
            positives = index.bloom.positives(pair_keys(domains, rev_locals, index.seed))
            if len(positives) <= FIND_LIMIT:  # a find per positive: a pass over the chunk each
                for i in positives:
                    token = token_of(domains, rev_locals, i)
                    pos = translated.find(token)
                    while pos != -1:
                        starts.add(chunk.rfind(b"\n", 0, pos) + 1)
                        pos = translated.find(token, pos + len(token))
            else:  # where every `@` is, once: pair i is the i-th `@`
                at = list(map(add, accumulate(map(len, translated.split(b"@"))), count()))
                starts.update(chunk.rfind(b"\n", 0, at[i]) + 1 for i in positives)
        return sorted(starts)


def _every_line(chunk: bytes) -> list[int]:
    starts = [0]
    pos = chunk.find(b"\n")
    while pos != -1 and pos + 1 < len(chunk):
        starts.append(pos + 1)
        pos = chunk.find(b"\n", pos + 1)
    return starts
