"""Stream a text member in large chunks and hand out only the lines the screen flags."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from feeds.textio import MAX_LINE
from monitor.feed import Screen

CHUNK = 8 << 20


@dataclass(slots=True)
class ScanCounters:
    """Counters of one member (mutable: filled while streaming)."""

    lines: int = 0
    bytes: int = 0
    candidates: int = 0
    too_long: int = 0
    binary: int = 0
    unparsed: int = 0


def candidate_lines(
    stream: BinaryIO,
    screen: Screen | None,
    counters: ScanCounters,
    *,
    max_line: int = MAX_LINE,
    chunk_size: int = CHUNK,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, bytes]]:
    """Yield (line number, line bytes without EOL) for lines holding a needle (all lines if no screen).

    Memory stays within about two chunks plus `max_line`: a line longer than `max_line` is
    counted in `too_long` and skipped, never accumulated.
    """
    carry = b""
    discarding = False  # inside an over-long line: drop bytes up to the next newline
    line_base = 0  # number of lines fully before the current buffer
    while True:
        data = stream.read(chunk_size)
        eof = not data
        counters.bytes += len(data)
        if on_bytes is not None and data:
            on_bytes(len(data))
        if discarding:
            nl = data.find(b"\n")
            if nl == -1:
                if eof:
                    break
                continue
            data = data[nl + 1 :]
            discarding = False
            line_base += 1
        buf = carry + data if carry else data
        if eof:
            body, carry = buf, b""
        else:
            cut = buf.rfind(b"\n")
            if cut == -1:
                if len(buf) > max_line:
                    counters.too_long += 1
                    discarding, carry = True, b""
                else:
                    carry = buf
                continue
            body, carry = buf[: cut + 1], buf[cut + 1 :]
            if len(carry) > max_line:
                counters.too_long += 1
                discarding, carry = True, b""
        if body:
            yield from _lines_of(body, screen, counters, line_base, max_line)
            newlines = body.count(b"\n")
            line_base += newlines + (0 if body.endswith(b"\n") else 1)
        if eof:
            break
    counters.lines = line_base


def _lines_of(
    body: bytes, screen: Screen | None, counters: ScanCounters, base: int, max_line: int
) -> Iterator[tuple[int, bytes]]:
    if screen is None:
        for offset, raw in enumerate(body.split(b"\n")):
            if raw or offset == 0:
                counters.candidates += 1
                line = raw.rstrip(b"\r")
                if len(line) > max_line:
                    counters.too_long += 1
                    continue
                yield base + offset + 1, line
        return
    seen_nl = 0
    prev = 0
    for start in screen.line_starts(body):
        seen_nl += body.count(b"\n", prev, start)
        prev = start
        end = body.find(b"\n", start)
        line = body[start:] if end == -1 else body[start:end]
        counters.candidates += 1
        if len(line) > max_line:
            counters.too_long += 1
            continue
        yield base + seen_nl + 1, line.rstrip(b"\r")
