"""Hyperscan from the `hyperscan` wheel: the screen's engine where the system library is not
installed (the wheel bundles its own copy, built for SSE only)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import hyperscan

FLAG_CASELESS = hyperscan.HS_FLAG_CASELESS


class WheelScanner:
    """A block-mode database of byte patterns; `scan` calls `on_end(end)` for each match with
    the offset just past it."""

    __slots__ = ("_db", "_local", "info")
    native = False

    def __init__(self, patterns: Sequence[bytes], flags: int) -> None:
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(
            expressions=list(patterns),
            ids=list(range(len(patterns))),
            elements=len(patterns),
            flags=flags,
        )
        self._db = db
        self._local = threading.local()  # scratch space is per thread
        info: object = db.info()  # bytes, whatever its stubs say
        self.info = info.decode(errors="replace") if isinstance(info, bytes) else str(info)

    def _scratch(self) -> hyperscan.Scratch:
        scratch: hyperscan.Scratch | None = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = hyperscan.Scratch(self._db)
            self._local.scratch = scratch
        return scratch

    def scan(self, buf: bytes | bytearray, size: int, on_end: Callable[[int], None]) -> None:
        """Scan the first `size` bytes of `buf` in place (no copy)."""

        def hit(_id: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
            on_end(end)

        with memoryview(buf) as view:
            self._db.scan(  # the binding reads any buffer; its stubs say bytes
                view[:size],  # type: ignore[type-var]
                match_event_handler=hit,
                scratch=self._scratch(),
            )
