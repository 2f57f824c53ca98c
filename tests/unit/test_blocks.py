"""A plain file read in blocks on several threads gives exactly what the streamed read gives:
the same candidate lines with the same whole-file numbers, the same line count."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from feeds import blocks, ranges
from feeds.counting import count_newlines
from feeds.text_scan import ScanCounters, candidate_lines
from monitor.fastscreen import HyperScreen
from monitor.screen import ByteScreen

NEEDLES = [b"watch.fr", b"x@y"]


def random_base(rnd: random.Random) -> bytes:
    parts = []
    for _ in range(rnd.randint(0, 300)):
        body = bytes(rnd.choice(b"ab:/.@\r\x00") for _ in range(rnd.randint(0, 40)))
        if rnd.random() < 0.2:
            cut = rnd.randint(0, len(body))
            body = body[:cut] + rnd.choice([b"WATCH.fr", b"watch.FR", b"x@Y"]) + body[cut:]
        if rnd.random() < 0.02:
            body += b"watch.fr" * rnd.randint(10, 60)  # an over-long line
        parts.append(body + rnd.choice([b"\n", b"\r\n", b"\n\n"]))
    if rnd.random() < 0.3:
        parts.append(b"watch.fr no final newline")
    data = b"".join(parts)
    return (b"\xef\xbb\xbf" + data) if rnd.random() < 0.2 else data


def streamed(data: bytes, screen: HyperScreen | ByteScreen, max_line: int) -> tuple[list, int]:
    counters = ScanCounters()
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    got = list(candidate_lines(io.BytesIO(body), screen, counters, max_line=max_line))
    return got, counters.lines


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("engine", [HyperScreen, ByteScreen])
@pytest.mark.parametrize("numpy_from", [0, 1 << 30])  # lines numbered by numpy, and without
def test_blocks_equal_the_streamed_read(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    seed: int,
    threads: int,
    engine: type[HyperScreen] | type[ByteScreen],
    numpy_from: int,
) -> None:
    from feeds import counting

    monkeypatch.setattr(counting, "_NUMPY_FROM", numpy_from)
    rnd = random.Random(seed)
    monkeypatch.setattr(blocks, "BLOCK", rnd.choice([1, 7, 64, 333, 1 << 16]))
    data = random_base(rnd)
    path = tmp_path / "base.txt"
    path.write_bytes(data)
    screen = engine(NEEDLES)
    max_line = 200
    counters = ScanCounters()
    got = list(blocks.block_lines(path, screen, counters, threads=threads, max_line=max_line))
    want, lines = streamed(data, screen, max_line)
    assert got == want
    assert counters.lines == lines


@pytest.mark.parametrize("seed", range(20))
def test_ranges_read_in_blocks_number_lines_as_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rnd = random.Random(1000 + seed)
    monkeypatch.setattr(blocks, "BLOCK", rnd.choice([5, 50, 500]))
    data = random_base(rnd).removeprefix(b"\xef\xbb\xbf")
    path = tmp_path / "base.txt"
    path.write_bytes(data)
    screen = HyperScreen(NEEDLES)
    want, _ = streamed(data, screen, 1 << 20)
    got = []
    for start, stop in ranges.spans(len(data), rnd.choice([10, 100, 1000])):
        first, end, before = ranges.locate(path, start, stop, key=f"k{seed}")
        counters = ScanCounters()
        found = blocks.block_lines(
            path, screen, counters, lo=first, hi=end, threads=2, max_line=1 << 20
        )
        got.extend((before + n, line) for n, line in found)
    assert got == want


@pytest.mark.parametrize("numpy_from", [0, 1 << 30])  # numpy's count, and bytearray's
def test_count_newlines_matches_bytes_count(
    monkeypatch: pytest.MonkeyPatch, numpy_from: int
) -> None:
    from feeds import counting

    monkeypatch.setattr(counting, "_NUMPY_FROM", numpy_from)
    rnd = random.Random(7)
    buf = bytearray(rnd.choice(b"\n\ra") for _ in range(10_000))
    for _ in range(200):
        a = rnd.randint(0, len(buf))
        b = rnd.randint(a, len(buf))
        assert count_newlines(buf, a, b) == bytes(buf).count(b"\n", a, b)


def test_an_abandoned_read_leaves_no_thread_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blocks, "BLOCK", 100)
    path = tmp_path / "base.txt"
    path.write_bytes(b"watch.fr:u:p\n" * 5000)
    lines = blocks.block_lines(path, HyperScreen(NEEDLES), ScanCounters(), threads=4, max_line=100)
    assert next(lines) == (1, b"watch.fr:u:p")
    lines.close()  # a scan stopped early: the pool is shut down, the file closed
    import threading

    assert not [t for t in threading.enumerate() if t.name.startswith("credwatch-block")]


@pytest.mark.parametrize("threads", [1, 3])
def test_file_newlines_counts_any_span(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    from feeds import counting

    monkeypatch.setattr(counting, "_PIECE", 10)  # many pieces, counted by several threads
    rnd = random.Random(threads)
    data = bytes(rnd.choice(b"\n\rab") for _ in range(5_000))
    path = tmp_path / "f.txt"
    path.write_bytes(data)
    with path.open("rb") as f:
        for _ in range(50):
            a = rnd.randint(0, len(data))
            b = rnd.randint(a, len(data) + 20)
            got = counting.file_newlines(f.fileno(), a, b, threads=threads)
            assert got == data.count(b"\n", a, b)


@pytest.mark.parametrize("threads", [1, 3])
def test_a_file_that_shrinks_while_read_ends_the_read_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    monkeypatch.setattr(blocks, "BLOCK", 64)
    path = tmp_path / "base.txt"
    path.write_bytes(b"watch.fr:u:p\n" * 400)
    counters = ScanCounters()
    lines = blocks.block_lines(path, HyperScreen(NEEDLES), counters, threads=threads, max_line=100)
    assert next(lines) == (1, b"watch.fr:u:p")
    with path.open("r+b") as f:
        f.truncate(13 * 100 + 5)  # cut in the middle of line 101
    rest = list(lines)
    assert len(rest) < 399 and all(line == b"watch.fr:u:p" for _, line in rest[:-1])
    assert [n for n, _ in rest] == list(range(2, 2 + len(rest)))
