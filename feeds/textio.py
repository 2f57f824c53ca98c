"""Decode text with flat memory: BOMs, UTF-16, cp1251, numbered lines, binary lines and files."""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, BinaryIO

__all__ = [
    "CHUNK_SIZE",
    "MAX_LINE",
    "LineCounter",
    "LineStats",
    "decode_line",
    "is_binary_line",
    "iter_byte_lines",
    "iter_text_lines",
    "mostly_binary",
    "read_head",
    "sniff_encoding",
    "utf8_stream",
]

CHUNK_SIZE = 256 << 10
"""Bytes read from the source at a time; with `max_line` it bounds the memory a reader holds."""

MAX_LINE = 1 << 20
"""Default longest line (in bytes, after transcoding) that is yielded; longer ones are skipped."""

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# ASCII control bytes that never occur in a text line (TAB, LF, CR excluded), plus DEL.
_CONTROL = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_BINARY_RATIO = 0.2
"""A line with more than this share of control bytes is binary (printable ratio below 0.8)."""
# The whole-file sniff is laxer: VT, FF and DEL do not count against a file's first bytes.
_HEAD_CONTROL = bytes([*range(0x00, 0x09), *range(0x0E, 0x20)])
_HEAD_BINARY_RATIO = 0.3
"""A file whose first bytes hold more than this share of control bytes is binary."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LineStats:
    """What a reader saw: physical lines, and how many of them it skipped or decoded leniently.

    `lines` counts every physical line, skipped ones included; the lines yielded are
    `lines - binary - too_long`.
    """

    lines: int = 0
    binary: int = 0
    too_long: int = 0
    decode_fallback: int = 0


@dataclass(slots=True)
class LineCounter:
    """Mutable counters a reader updates while it runs; `snapshot()` freezes them."""

    lines: int = 0
    binary: int = 0
    too_long: int = 0
    decode_fallback: int = 0

    def snapshot(self) -> LineStats:
        return LineStats(
            lines=self.lines,
            binary=self.binary,
            too_long=self.too_long,
            decode_fallback=self.decode_fallback,
        )


def sniff_encoding(head: bytes) -> str:
    """Name the encoding announced by a byte-order mark at the start of `head`, else UTF-8."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return "utf-8"


def _controls(data: bytes, table: bytes) -> int:
    """How many bytes of `data` are in `table`."""
    return len(data) - len(data.translate(None, table))


def is_binary_line(line: bytes) -> bool:
    """True for a line that is not text: it holds a NUL, or mostly control bytes."""
    if b"\x00" in line:
        return True
    if not line:
        return False
    return _controls(line, _CONTROL) > len(line) * _BINARY_RATIO


def mostly_binary(head: bytes) -> bool:
    """True for the first bytes of a binary file: more than 30 % control bytes.

    TAB, LF, VT, FF, CR and DEL do not count. A text file with a stray binary line is not
    binary: the line readers skip that line alone.
    """
    if not head:
        return False
    return _controls(head, _HEAD_CONTROL) / len(head) > _HEAD_BINARY_RATIO


def decode_line(raw: bytes) -> tuple[str, bool]:
    """`raw` as text: UTF-8, else cp1251 with replacement characters; True when it fell back."""
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("cp1251", "replace"), True


def read_head(stream: IO[bytes], size: int) -> bytes:
    """The first `size` bytes of `stream` (fewer only at its end), however short its reads."""
    parts: list[bytes] = []
    missing = size
    while missing > 0:
        data = stream.read(missing)
        if not data:
            break
        parts.append(data)
        missing -= len(data)
    return b"".join(parts)


def _raw_chunks(stream: BinaryIO) -> Iterator[bytes]:
    while True:
        data = stream.read(CHUNK_SIZE)
        if not data:
            return
        yield data


def _utf8_chunks(stream: BinaryIO) -> Iterator[bytes]:
    """The stream's bytes with the BOM removed; UTF-16 sources transcoded to UTF-8 on the fly."""
    head = read_head(stream, 4)
    encoding = sniff_encoding(head)
    if encoding == "utf-8":
        if head:
            yield head
        yield from _raw_chunks(stream)
        return
    if encoding == "utf-8-sig":
        if head[3:]:
            yield head[3:]
        yield from _raw_chunks(stream)
        return
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    pending = head[2:]
    for data in _raw_chunks(stream):
        text = decoder.decode(pending + data if pending else data)
        pending = b""
        if text:
            yield text.encode("utf-8", "replace")
    text = decoder.decode(pending, final=True)
    if text:
        yield text.encode("utf-8", "replace")


class _ChunkReader(io.RawIOBase):
    """A raw stream over an iterator of byte chunks; closing it closes the source too."""

    def __init__(self, chunks: Iterator[bytes], source: BinaryIO) -> None:
        super().__init__()
        self._chunks = chunks
        self._source = source
        self._left = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._left and not self._done:
            try:
                self._left = next(self._chunks)
            except StopIteration:
                self._done = True
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size

    def close(self) -> None:
        if not self.closed:
            self._left = b""
            self._source.close()
        super().close()


def utf8_stream(stream: BinaryIO) -> BinaryIO:
    """Return `stream` as UTF-8-compatible bytes for byte-level scanners.

    A UTF-16 (BOM) source is transcoded incrementally; any other source passes through with
    its UTF-8 BOM stripped. Closing the returned stream closes `stream`.
    """
    return io.BufferedReader(_ChunkReader(_utf8_chunks(stream), stream), CHUNK_SIZE)


def _strip_eol(part: bytes) -> bytes:
    if part.endswith(b"\r\n"):
        return part[:-2]
    if part.endswith((b"\n", b"\r")):
        return part[:-1]
    return part


def iter_byte_lines(
    stream: BinaryIO, *, max_line: int = MAX_LINE, stats: LineCounter | None = None
) -> Iterator[tuple[int, bytes]]:
    """Yield `(number, line)` for each text line of `stream`, without its end-of-line.

    Lines end with LF, CRLF or a lone CR. The bytes are UTF-8 for a UTF-16 (BOM) source and
    as stored otherwise. Binary lines and lines longer than `max_line` bytes are counted in
    `stats` and skipped; numbers still count them. The stream is read in fixed chunks and an
    overlong line is discarded while it is read, so memory never grows with the input.
    Errors raised by the stream (e.g. `FeedError` from an archive member) propagate.
    """
    counter = stats if stats is not None else LineCounter()
    pending: list[bytes] = []
    pending_len = 0
    overflow = False
    number = 0
    skip_lf = False
    for chunk in _utf8_chunks(stream):
        if skip_lf:
            skip_lf = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
                if not chunk:
                    continue
        parts = chunk.splitlines(keepends=True)
        tail = b""
        if not parts[-1].endswith((b"\n", b"\r")):
            tail = parts.pop()
        elif parts[-1].endswith(b"\r"):
            skip_lf = True  # a CRLF may straddle two chunks
        for part in parts:
            number += 1
            counter.lines += 1
            line = _strip_eol(part)
            if pending or overflow:
                if overflow or pending_len + len(line) > max_line:
                    counter.too_long += 1
                    pending.clear()
                    pending_len = 0
                    overflow = False
                    continue
                pending.append(line)
                line = b"".join(pending)
                pending.clear()
                pending_len = 0
            if len(line) > max_line:
                counter.too_long += 1
            elif is_binary_line(line):
                counter.binary += 1
            else:
                yield number, line
        if tail and not overflow:
            if pending_len + len(tail) > max_line:
                overflow = True
                pending.clear()
                pending_len = 0
            else:
                pending.append(tail)
                pending_len += len(tail)
    if pending or overflow:
        number += 1
        counter.lines += 1
        if overflow:
            counter.too_long += 1
            return
        line = b"".join(pending)
        if is_binary_line(line):
            counter.binary += 1
        else:
            yield number, line


def iter_text_lines(
    stream: BinaryIO, *, max_line: int = MAX_LINE, stats: LineCounter | None = None
) -> Iterator[tuple[int, str]]:
    """Yield `(number, text)` for each text line of `stream` (see `iter_byte_lines`).

    Each line is decoded as UTF-8; a line that is not valid UTF-8 is decoded as cp1251 with
    replacement characters and counted in `stats.decode_fallback`.
    """
    counter = stats if stats is not None else LineCounter()
    for number, raw in iter_byte_lines(stream, max_line=max_line, stats=counter):
        text, fell_back = decode_line(raw)
        if fell_back:
            counter.decode_fallback += 1
        yield number, text
