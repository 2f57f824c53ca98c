"""Range units numbered from line counts other processes published: same numbers, less counting."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds import ranges
from feeds.reader import FileFeed
from monitor.feed import ArchiveLimits, FeedTotals, ReadContext
from monitor.screen import build_screen
from monitor.types import LeakedCredential


class SharedMarks:
    """What the store keeps for every process: published (line start -> lines before it)."""

    def __init__(self) -> None:
        self.points: dict[tuple[str, int], int] = {}
        self.asked = 0

    def nearest(self, key: str, at_byte: int) -> tuple[int, int] | None:
        self.asked += 1
        best = [(at, n) for (k, at), n in self.points.items() if k == key and at <= at_byte]
        return max(best) if best else None

    def publish(self, key: str, at_byte: int, lines: int) -> None:
        self.points.setdefault((key, at_byte), lines)


def text_base(path: Path, lines: int) -> Path:
    path.write_bytes(
        b"".join(
            b"https://h%d.example/:u%d@watched.example:p%d\r\n" % (i, i, i)
            if i % 7 == 0
            else b"https://h%d.example/:u%d:p%d\n" % (i, i, i)
            for i in range(lines)
        )
    )
    return path


def read_units(path: Path, size: int, order: list[int], marks: SharedMarks) -> list[int]:
    """The line numbers found reading `path` range by range in `order`, each range by a fresh
    process (nothing known but what was published)."""
    spans = ranges.spans(path.stat().st_size, size)
    key = f"{path}:{size}:units"
    found: list[int] = []
    for i in order:
        ranges._known.clear()  # another process: only the published points are shared
        ctx = ReadContext(
            limits=ArchiveLimits(),
            passwords=(),
            workdir=path.parent,
            screen=build_screen([b"watched.example"]),
            span=spans[i],
            span_key=key,
            marks=marks,
        )
        for rec in FileFeed().read(path, ctx, FeedTotals()):
            if isinstance(rec, LeakedCredential):
                found.append(rec.line or 0)
    return sorted(found)


@pytest.mark.parametrize("order", ["forward", "backward"])
def test_ranges_numbered_as_the_whole_file_in_any_order(tmp_path: Path, order: str) -> None:
    path = text_base(tmp_path / "base.txt", 3000)
    size = 4096
    count = len(ranges.spans(path.stat().st_size, size))
    ids = list(range(count)) if order == "forward" else list(reversed(range(count)))
    whole = read_units(path, path.stat().st_size, [0], SharedMarks())
    assert len(whole) == 429 and whole[:2] == [1, 8]  # every 7th line, by its number
    marks = SharedMarks()
    assert read_units(path, size, ids, marks) == whole
    # each range but the last published the count at its end: the next ones start from there
    assert len(marks.points) == count - 1


def test_a_published_point_spares_the_count_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = text_base(tmp_path / "base.txt", 2000)
    counted: list[tuple[int, int]] = []
    real = ranges.file_newlines

    def spy(fd: int, start: int, stop: int, *, threads: int = 1) -> int:
        counted.append((start, stop))
        return real(fd, start, stop, threads=threads)

    monkeypatch.setattr(ranges, "file_newlines", spy)
    data = path.read_bytes()
    mid = data.index(b"\n", len(data) // 2) + 1
    far = data.index(b"\n", mid + 1000) + 1
    marks = SharedMarks()
    marks.publish("k", mid, data[:mid].count(b"\n"))
    ranges._known.clear()
    with path.open("rb") as f:
        assert ranges.lines_before(f, far, "k", marks=marks) == data[:far].count(b"\n")
    assert counted == [(mid, far)]  # from the published point, not from the head of the file
