"""The ctypes binding of the system's Hyperscan library: matches, errors and buffers."""

from __future__ import annotations

import pytest

from monitor import hs_native

lib = hs_native.library()
pytestmark = pytest.mark.skipif(lib is None, reason="the system's Hyperscan library is not here")


def scanner(*patterns: bytes, flags: int = hs_native.FLAG_CASELESS) -> hs_native.NativeScanner:
    assert lib is not None
    return hs_native.NativeScanner(lib, patterns, flags)


def ends(s: hs_native.NativeScanner, data: bytes | bytearray, size: int | None = None) -> list[int]:
    found: list[int] = []
    s.scan(data, len(data) if size is None else size, found.append)
    return found


def test_every_match_reports_its_end_caseless_or_not() -> None:
    data = b"ab AB aB xab"
    assert ends(scanner(b"ab"), data) == [2, 5, 8, 12]
    assert ends(scanner(b"ab", flags=0), data) == [2, 12]


def test_a_bytearray_is_read_in_place_up_to_size_and_released() -> None:
    buf = bytearray(b"zz.fr zz.fr")
    assert ends(scanner(rb"zz\x2efr"), buf, 5) == [5]
    buf.extend(b" more")  # no export is left behind: the buffer can grow again
    assert ends(scanner(rb"zz\x2efr"), buf) == [5, 11]


def test_a_size_past_the_buffer_is_refused() -> None:
    with pytest.raises(ValueError, match="past the end"):
        ends(scanner(b"a"), b"aaa", 4)


def test_an_error_in_the_handler_stops_the_scan_and_is_raised() -> None:
    seen: list[int] = []

    def handler(end: int) -> None:
        seen.append(end)
        raise LookupError("handler failed")

    with pytest.raises(LookupError, match="handler failed"):
        scanner(b"a").scan(b"aaaa", 4, handler)
    assert seen == [1]


def test_a_pattern_the_library_refuses_is_reported_with_its_message() -> None:
    with pytest.raises(hs_native.HyperscanError, match="hs_compile_multi failed"):
        scanner(b"(unclosed")


def test_the_database_names_its_version() -> None:
    assert scanner(b"a").info.startswith("Version: 5.")
    version = hs_native.version()
    assert version is not None
    assert version.startswith("5.")


def test_threads_each_get_their_own_scratch() -> None:
    from concurrent.futures import ThreadPoolExecutor

    s = scanner(b"needle")
    data = b"x" * 100_000 + b"NEEDLE" + b"y" * 100_000
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: ends(s, data), range(32)))
    assert results == [[100_006]] * 32


def test_an_empty_buffer_has_no_match() -> None:
    assert ends(scanner(b"a"), bytearray(), 0) == []
    assert ends(scanner(b"a"), b"") == []
