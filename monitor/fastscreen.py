"""The Hyperscan screen: SIMD, case-insensitive multi-literal search over whole-line chunks."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import hyperscan

from monitor.screen import minimal_needles


def _escaped(needle: bytes) -> bytes:
    """The needle as a Hyperscan pattern matching exactly its bytes (NUL included, which the
    binding's pure-literal mode cannot take): letters and digits as is, the rest as \\xHH."""
    return b"".join(bytes([c]) if chr(c).isalnum() and c < 128 else b"\\x%02x" % c for c in needle)


class HyperScreen:
    """Same contract as ByteScreen (every line holding a needle, ASCII case-insensitive), with
    no lower-cased copy of the chunk and no pass per needle: one Hyperscan block scan."""

    __slots__ = ("_db", "_local", "_needles")

    def __init__(self, needles: Sequence[bytes]) -> None:
        self._needles = minimal_needles(needles)
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(
            expressions=[_escaped(n) for n in self._needles],
            ids=list(range(len(self._needles))),
            elements=len(self._needles),
            flags=hyperscan.HS_FLAG_CASELESS,
        )
        self._db = db
        self._local = threading.local()  # scratch space is per thread

    @property
    def needles(self) -> tuple[bytes, ...]:
        return self._needles

    def _scratch(self) -> hyperscan.Scratch:
        scratch: hyperscan.Scratch | None = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = hyperscan.Scratch(self._db)
            self._local.scratch = scratch
        return scratch

    def line_starts(self, chunk: bytes) -> list[int]:
        """Sorted start offsets of the lines in `chunk` that contain a needle."""
        return self.line_starts_in(chunk, len(chunk))

    def line_starts_in(self, buf: bytes | bytearray, size: int) -> list[int]:
        """The same for the first `size` bytes of `buf` (a reused buffer), read in place."""
        starts: list[int] = []
        if size <= 0:
            return starts
        line_end = -1  # end of the last line found: later hits in it add nothing

        def hit(_id: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
            nonlocal line_end
            if end <= line_end:
                return
            starts.append(buf.rfind(b"\n", 0, end) + 1)
            nl = buf.find(b"\n", end, size)
            line_end = size if nl == -1 else nl

        with memoryview(buf) as view:
            self._db.scan(  # the binding reads any buffer; its stubs say bytes
                view[:size],  # type: ignore[type-var]
                match_event_handler=hit,
                scratch=self._scratch(),
            )
        return starts
