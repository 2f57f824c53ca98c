"""Find, in a chunk of bytes, the lines that contain any watched needle — without a per-line Python loop."""

from __future__ import annotations

from collections.abc import Sequence

import ahocorasick

from monitor.feed import Screen

# Up to this many needles, one bytes.find pass per needle beats an automaton.
FIND_LIMIT = 24


def minimal_needles(needles: Sequence[bytes]) -> tuple[bytes, ...]:
    """Lower-cased needles without those that contain a shorter one (it adds no line)."""
    cleaned = sorted({n.lower() for n in needles if n}, key=len)
    if not cleaned:
        raise ValueError("a screen needs at least one needle")
    minimal: list[bytes] = []
    for n in cleaned:
        if not any(m in n for m in minimal):
            minimal.append(n)
    return tuple(minimal)


def build_screen(needles: Sequence[bytes]) -> Screen:
    """The fastest screen this machine has: Hyperscan (the system's library, else the wheel)
    when one loads, else ByteScreen. All return exactly the same lines
    (tests/unit/test_screen.py)."""
    from monitor.fastscreen import HyperScreen

    try:
        return HyperScreen(needles)
    except ImportError:  # neither library nor wheel on this platform: the portable screen
        return ByteScreen(needles)


class ByteScreen:
    """Case-insensitive (ASCII) multi-needle screen over chunks made of whole lines.

    It over-approximates on purpose: every line holding a needle is returned (decoys included),
    and the exact matcher decides. It never drops a line that contains a needle.
    """

    __slots__ = ("_automaton", "_needles")

    def __init__(self, needles: Sequence[bytes]) -> None:
        self._needles = minimal_needles(needles)
        self._automaton = None
        if len(self._needles) > FIND_LIMIT:
            automaton = ahocorasick.Automaton()
            for n in self._needles:
                automaton.add_word(n.decode("latin-1"), len(n))
            automaton.make_automaton()
            self._automaton = automaton

    @property
    def needles(self) -> tuple[bytes, ...]:
        return self._needles

    def line_starts(self, chunk: bytes) -> list[int]:
        """Sorted start offsets of the lines in `chunk` that contain a needle."""
        low = chunk.lower()
        starts: set[int] = set()
        if self._automaton is None:
            for needle in self._needles:
                pos = low.find(needle)
                while pos != -1:
                    start = low.rfind(b"\n", 0, pos) + 1
                    starts.add(start)
                    end = low.find(b"\n", pos)
                    if end == -1:
                        break
                    pos = low.find(needle, end)
        else:
            text = low.decode("latin-1")  # one byte per character: offsets stay byte offsets
            last_end = -1
            for end_index, length in self._automaton.iter(text):
                pos = end_index - length + 1
                if pos < last_end:
                    continue  # this line is already a candidate
                starts.add(low.rfind(b"\n", 0, pos) + 1)
                nl = low.find(b"\n", pos)
                last_end = len(low) if nl == -1 else nl
        return sorted(starts)
