"""The screens never drop a line holding a needle, and the fast and portable engines agree."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor import fastscreen as hs
from monitor import hs_native
from monitor.screen import ByteScreen, build_screen

pytest.importorskip("hyperscan", reason="Hyperscan wheel not available here")
needs_library = pytest.mark.skipif(
    hs_native.library() is None, reason="the system's Hyperscan library is not installed here"
)


def reference(chunk: bytes, needles: list[bytes]) -> list[int]:
    """Plain Python: the start of every line that holds a needle, ASCII case-insensitive."""
    starts, pos = [], 0
    for line in chunk.split(b"\n"):
        if any(n.lower() in line.lower() for n in needles if n):
            starts.append(pos)
        pos += len(line) + 1
    return starts


ALPHABET = b"abcAB.\n:/@xyz\x00\xff"
needle = st.binary(min_size=1, max_size=5).map(
    lambda b: bytes(ALPHABET[c % len(ALPHABET)] for c in b).replace(b"\n", b"a")
)
chunk = st.binary(max_size=400).map(lambda b: bytes(ALPHABET[c % len(ALPHABET)] for c in b))


@settings(max_examples=400, deadline=None, derandomize=True)
@given(chunk, st.lists(needle, min_size=1, max_size=30))
def test_every_engine_returns_exactly_the_reference_lines(
    data: bytes, needles: list[bytes]
) -> None:
    expected = reference(data, needles)
    assert ByteScreen(needles).line_starts(data) == expected
    assert hs.HyperScreen(needles, engine=hs.wheel_scanner).line_starts(data) == expected
    if hs_native.library() is not None:
        assert hs.HyperScreen(needles, engine=hs.best_scanner).line_starts(data) == expected


@settings(max_examples=100, deadline=None, derandomize=True)
@given(chunk, st.lists(needle, min_size=25, max_size=60))
def test_many_needles_take_the_automaton_and_agree(data: bytes, needles: list[bytes]) -> None:
    portable = ByteScreen(needles).line_starts(data)
    assert hs.HyperScreen(needles, engine=hs.wheel_scanner).line_starts(data) == portable
    assert hs.HyperScreen(needles).line_starts(data) == portable


@needs_library
def test_the_system_library_is_preferred_and_uses_the_cpu() -> None:
    screen = build_screen([b"francetravail.fr"])
    assert isinstance(screen, hs.HyperScreen)
    assert screen.engine.startswith("Version: 5.")
    assert screen.engine != hs.HyperScreen([b"x"], engine=hs.wheel_scanner).engine


def test_without_the_system_library_the_wheel_screens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hs_native, "library", lambda: None)
    screen = build_screen([b"a.fr"])
    assert isinstance(screen, hs.HyperScreen)
    assert screen.engine == hs.HyperScreen([b"x"], engine=hs.wheel_scanner).engine
    assert screen.line_starts(b"x\nA.FR\n") == [2]


def test_every_case_variant_is_found() -> None:
    data = (
        b"x\nhttps://PORTAIL.FranceTravail.Fr/k:u:p\nfrancetravail.fr\nFRANCETRAVAIL.FR|a\nnone\n"
    )
    screen = build_screen([b"francetravail.fr"])
    assert type(screen).__name__ == "HyperScreen"
    assert screen.line_starts(data) == reference(data, [b"francetravail.fr"]) == [2, 41, 58]


def test_a_line_with_several_hits_is_returned_once() -> None:
    data = b"a.fr b.fr a.fr\nzz\nb.fr"
    assert hs.HyperScreen([b"a.fr", b"b.fr"]).line_starts(data) == [0, 18]
