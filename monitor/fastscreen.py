"""The Hyperscan screen: SIMD, case-insensitive multi-literal search over whole-line chunks.

Two engines, the same results: the system's library (`monitor.hs_native`, AVX2/AVX-512 where
the CPU has them) when it is installed, else the `hyperscan` wheel (`monitor.hs_wheel`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from monitor.screen import minimal_needles


class Scanner(Protocol):
    """A compiled set of patterns that reports the end offset of each match."""

    info: str
    native: bool  # the system's library (the CPU's SIMD), not the wheel's SSE-only copy

    def scan(self, buf: bytes | bytearray, size: int, on_end: Callable[[int], None]) -> None: ...


def _escaped(needle: bytes) -> bytes:
    """The needle as a Hyperscan pattern matching exactly its bytes (NUL included, which the
    binding's pure-literal mode cannot take): letters and digits as is, the rest as \\xHH."""
    return b"".join(bytes([c]) if chr(c).isalnum() and c < 128 else b"\\x%02x" % c for c in needle)


def native_scanner(patterns: Sequence[bytes]) -> Scanner | None:
    """Case-insensitive patterns compiled by the system's library, None where it is absent."""
    from monitor import hs_native

    lib = hs_native.library()
    if lib is None:
        return None
    return hs_native.NativeScanner(lib, patterns, hs_native.FLAG_CASELESS)


def wheel_scanner(patterns: Sequence[bytes]) -> Scanner:
    """Case-insensitive patterns compiled by the wheel (ImportError where it is missing)."""
    from monitor import hs_wheel

    return hs_wheel.WheelScanner(patterns, hs_wheel.FLAG_CASELESS)


def best_scanner(patterns: Sequence[bytes]) -> Scanner:
    """The system's library when it is there, else the wheel (ImportError if neither)."""
    return native_scanner(patterns) or wheel_scanner(patterns)


class HyperScreen:
    """Same contract as ByteScreen (every line holding a needle, ASCII case-insensitive), with
    no lower-cased copy of the chunk and no pass per needle: one Hyperscan block scan."""

    __slots__ = ("_needles", "_scanner")

    def __init__(
        self,
        needles: Sequence[bytes],
        engine: Callable[[Sequence[bytes]], Scanner] = best_scanner,
    ) -> None:
        self._needles = minimal_needles(needles)
        self._scanner = engine([_escaped(n) for n in self._needles])

    @property
    def needles(self) -> tuple[bytes, ...]:
        return self._needles

    @property
    def engine(self) -> str:
        """The engine's own description (version, CPU features its code uses)."""
        return self._scanner.info

    @property
    def native(self) -> bool:
        """Whether the system's library screens (else the wheel)."""
        return self._scanner.native

    def line_starts(self, chunk: bytes) -> list[int]:
        """Sorted start offsets of the lines in `chunk` that contain a needle."""
        return self.line_starts_in(chunk, len(chunk))

    def line_starts_in(self, buf: bytes | bytearray, size: int) -> list[int]:
        """The same for the first `size` bytes of `buf` (a reused buffer), read in place."""
        starts: list[int] = []
        if size <= 0:
            return starts
        line_end = -1  # end of the last line found: later hits in it add nothing

        def hit(end: int) -> None:
            nonlocal line_end
            if end <= line_end:
                return
            starts.append(buf.rfind(b"\n", 0, end) + 1)
            nl = buf.find(b"\n", end, size)
            line_end = size if nl == -1 else nl

        self._scanner.scan(buf, size, hit)
        return starts
