"""Tests for feeds.textio: encodings, line endings, binary and overlong lines, flat memory."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds import textio
from feeds.textio import (
    LineCounter,
    LineStats,
    decode_line,
    is_binary_line,
    iter_byte_lines,
    iter_text_lines,
    mostly_binary,
    read_head,
    sniff_encoding,
    utf8_stream,
)


def lines(data: bytes, **kwargs: object) -> list[tuple[int, str]]:
    return list(iter_text_lines(io.BytesIO(data), **kwargs))  # type: ignore[arg-type]


def test_line_endings_lf_crlf_lone_cr_and_mixed() -> None:
    data = b"a:1\nb:2\r\nc:3\rd:4\r\n\ne:5"
    assert lines(data) == [(1, "a:1"), (2, "b:2"), (3, "c:3"), (4, "d:4"), (5, ""), (6, "e:5")]


def test_final_newline_adds_no_empty_line() -> None:
    assert lines(b"x\n") == [(1, "x")]
    assert lines(b"") == []


def test_crlf_split_across_chunks_is_one_line_ending(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(textio, "CHUNK_SIZE", 4)
    # chunks: b"abc\r" b"\ndef" b"\r\r\ngh" ...: the CR LF pairs straddle chunk borders
    data = b"abc\r\ndef\r\r\nghij\rk\n"
    assert lines(data) == [(1, "abc"), (2, "def"), (3, ""), (4, "ghij"), (5, "k")]


def test_utf8_bom_is_stripped() -> None:
    assert lines(b"\xef\xbb\xbfhttps://a.example:u:p\n") == [(1, "https://a.example:u:p")]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom_is_decoded(codec: str) -> None:
    text = "\ufeffURL: https://портал.example/\r\nUsername: иван\r\nPassword: x\r\n"
    assert lines(text.encode(codec)) == [
        (1, "URL: https://портал.example/"),
        (2, "Username: иван"),
        (3, "Password: x"),
    ]


def test_utf16_transcoding_is_incremental_across_odd_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(textio, "CHUNK_SIZE", 3)  # splits code units and surrogate pairs
    text = "\ufeffé😀z\nвторая\n"
    assert lines(text.encode("utf-16-le")) == [(1, "é😀z"), (2, "вторая")]


def test_cp1251_fallback_per_line_is_counted() -> None:
    counter = LineCounter()
    data = "ok:utf8:пароль\n".encode() + "cp:1251:пароль\n".encode("cp1251")
    assert lines(data, stats=counter) == [(1, "ok:utf8:пароль"), (2, "cp:1251:пароль")]
    assert counter.snapshot() == LineStats(lines=2, binary=0, too_long=0, decode_fallback=1)


def test_binary_lines_are_skipped_and_numbers_stay_right() -> None:
    counter = LineCounter()
    data = b"first\nPK\x03\x04\x00\x00junk\n\x01\x02\x03\x04ab\nlast\tcol\n"
    assert lines(data, stats=counter) == [(1, "first"), (4, "last\tcol")]
    assert counter.snapshot() == LineStats(lines=4, binary=2, too_long=0, decode_fallback=0)


def test_overlong_lines_are_skipped_at_max_line() -> None:
    counter = LineCounter()
    data = b"x" * 10 + b"\n" + b"y" * 11 + b"\nz\n" + b"w" * 11
    assert lines(data, max_line=10, stats=counter) == [(1, "x" * 10), (3, "z")]
    assert counter.snapshot() == LineStats(lines=4, binary=0, too_long=2, decode_fallback=0)


def test_overlong_line_spanning_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(textio, "CHUNK_SIZE", 8)
    counter = LineCounter()
    data = b"short\n" + b"L" * 100 + b"\r\nafter\n" + b"m" * 30
    assert lines(data, max_line=20, stats=counter) == [(1, "short"), (3, "after")]
    assert counter.too_long == 2
    assert counter.lines == 4


def test_byte_lines_keep_raw_bytes() -> None:
    data = b"a\xff\xfe:1\r\nb\n"
    assert list(iter_byte_lines(io.BytesIO(data))) == [(1, b"a\xff\xfe:1"), (2, b"b")]


def test_sniff_encoding() -> None:
    assert sniff_encoding(b"\xef\xbb\xbfabc") == "utf-8-sig"
    assert sniff_encoding(b"\xff\xfea\x00") == "utf-16-le"
    assert sniff_encoding(b"\xfe\xff\x00a") == "utf-16-be"
    assert sniff_encoding(b"abc") == "utf-8"
    assert sniff_encoding(b"") == "utf-8"


def test_utf8_stream_transcodes_utf16_and_closes_source() -> None:
    source = io.BytesIO("\ufeffлогин:pass\n".encode("utf-16-le"))
    with utf8_stream(source) as stream:
        assert stream.read() == "логин:pass\n".encode()
    assert source.closed


def test_utf8_stream_passes_other_bytes_through() -> None:
    assert utf8_stream(io.BytesIO(b"\xef\xbb\xbfab\xffc")).read() == b"ab\xffc"
    assert utf8_stream(io.BytesIO(b"ab")).read() == b"ab"
    assert utf8_stream(io.BytesIO(b"")).read() == b""


def _peak_while(fn: object) -> int:
    tracemalloc.start()
    try:
        fn()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_20mb_single_line_uses_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "one-line.txt"
    with path.open("wb") as out:
        block = b"A" * (1 << 20)
        for _ in range(20):
            out.write(block)
        out.write(b"\nhttps://after.example:u:p\n")
    counter = LineCounter()
    result: list[tuple[int, str]] = []

    def run() -> None:
        with path.open("rb") as stream:
            result.extend(iter_text_lines(stream, stats=counter))

    peak = _peak_while(run)
    assert result == [(2, "https://after.example:u:p")]
    assert counter.too_long == 1
    assert peak < 4 << 20, peak


def test_50mb_file_uses_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "base.txt"
    row = b"https://portal.example.org/login:someone@example.org:Password123!" * 2 + b"\n"
    rows_per_block = (1 << 20) // len(row)
    block = row * rows_per_block
    with path.open("wb") as out:
        for _ in range(50):
            out.write(block)
    counter = LineCounter()
    seen = [0, 0]

    def run() -> None:
        with path.open("rb") as stream:
            for number, line in iter_byte_lines(stream, stats=counter):
                seen[0] = number
                seen[1] += len(line) + 1

    peak = _peak_while(run)
    assert seen == [50 * rows_per_block, path.stat().st_size]
    assert counter.lines == 50 * rows_per_block
    assert peak < 4 << 20, peak


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048), st.integers(min_value=1, max_value=64))
def test_iter_text_lines_never_raises(data: bytes, max_line: int) -> None:
    counter = LineCounter()
    result = list(iter_text_lines(io.BytesIO(data), max_line=max_line, stats=counter))
    numbers = [n for n, _ in result]
    assert numbers == sorted(set(numbers))
    assert all(len(text.encode("utf-8", "surrogatepass")) <= 4 * max_line for _, text in result)
    assert counter.lines - counter.binary - counter.too_long == len(result)


_SAFE_LINE = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufeff"),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_SAFE_LINE, min_size=1, max_size=20), st.sampled_from(["\n", "\r\n", "\r"]))
def test_text_round_trips_with_any_line_ending(rows: list[str], eol: str) -> None:
    data = eol.join(rows).encode()
    expected = list(enumerate(rows, start=1))
    if rows[-1] == "":
        expected = expected[:-1]  # a trailing line ending ends the last line, it adds none
    assert lines(data) == expected


def test_mostly_binary_head() -> None:
    assert not mostly_binary(b"")
    assert not mostly_binary(b"https://a.example/:user:pass\r\n\tTAB\n" * 50)
    assert mostly_binary(bytes(range(32)) * 10)
    assert mostly_binary(b"\x00" * 31 + b"a" * 69)  # 31 % control bytes
    assert not mostly_binary(b"\x00" * 30 + b"a" * 70)  # 30 % is still text
    # VT, FF and DEL do not count against a whole file (they do against a single line)
    assert not mostly_binary(b"\x0b\x0c\x7f" * 100)
    assert is_binary_line(b"\x0b\x0c\x7f" * 100)


def test_decode_line_utf8_then_cp1251() -> None:
    assert decode_line("é:пароль".encode()) == ("é:пароль", False)
    assert decode_line("пароль".encode("cp1251")) == ("пароль", True)
    assert decode_line(b"") == ("", False)


class _Trickle(io.RawIOBase):
    """A stream that hands out one byte per read."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        out, self._data = self._data[:1], self._data[1:]
        return out


def test_read_head_fills_up_across_short_reads() -> None:
    assert read_head(_Trickle(b"abcdef"), 4) == b"abcd"  # type: ignore[arg-type]
    assert read_head(_Trickle(b"ab"), 4) == b"ab"  # type: ignore[arg-type]
    assert read_head(io.BytesIO(b""), 4) == b""
