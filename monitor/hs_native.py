"""Hyperscan from the system's shared library (Debian's `libhyperscan5`), through ctypes.

The distribution's library is built with a fat runtime: it picks AVX2 or AVX-512 code for the
CPU it runs on, where the Python wheel's bundled copy runs SSE code on every CPU (its database
info lists no feature). For the benchmark's watched domains that is 1.4-2x the screen's speed
(README, "Benchmarks"). The scan runs without the GIL (ctypes releases it around a foreign call);
each match calls back into Python, which is cheap at the few matches a block of text has.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable, Sequence
from functools import cache

LIBRARY = "libhs.so.5"
FLAG_CASELESS = 1
_MODE_BLOCK = 1
_SUCCESS = 0
_SCAN_TERMINATED = -3
_MAX_LENGTH = 0xFFFFFFFF  # hs_scan's length is an unsigned int

# int (*match_event_handler)(unsigned id, unsigned long long from, unsigned long long to,
#                            unsigned flags, void *context)
_Handler = ctypes.CFUNCTYPE(
    ctypes.c_int,
    ctypes.c_uint,
    ctypes.c_ulonglong,
    ctypes.c_ulonglong,
    ctypes.c_uint,
    ctypes.c_void_p,
)


class _CompileError(ctypes.Structure):
    _fields_ = (("message", ctypes.c_char_p), ("expression", ctypes.c_int))


class HyperscanError(RuntimeError):
    """The library refused a call (its error code or compile message is in the text)."""


@cache
def library() -> ctypes.CDLL | None:
    """The system's Hyperscan library, or None where it is not installed or cannot run on this
    CPU (it needs SSSE3 at least)."""
    try:
        lib = ctypes.CDLL(LIBRARY)
    except OSError:
        return None
    vp, pp = ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)
    lib.hs_valid_platform.argtypes = []
    lib.hs_valid_platform.restype = ctypes.c_int
    lib.hs_version.argtypes = []
    lib.hs_version.restype = ctypes.c_char_p
    lib.hs_compile_multi.argtypes = [
        ctypes.POINTER(ctypes.c_char_p),
        ctypes.POINTER(ctypes.c_uint),
        ctypes.POINTER(ctypes.c_uint),
        ctypes.c_uint,
        ctypes.c_uint,
        vp,
        pp,
        ctypes.POINTER(ctypes.POINTER(_CompileError)),
    ]
    lib.hs_compile_multi.restype = ctypes.c_int
    lib.hs_free_compile_error.argtypes = [ctypes.POINTER(_CompileError)]
    lib.hs_free_compile_error.restype = ctypes.c_int
    lib.hs_free_database.argtypes = [vp]
    lib.hs_free_database.restype = ctypes.c_int
    lib.hs_alloc_scratch.argtypes = [vp, pp]
    lib.hs_alloc_scratch.restype = ctypes.c_int
    lib.hs_free_scratch.argtypes = [vp]
    lib.hs_free_scratch.restype = ctypes.c_int
    lib.hs_database_info.argtypes = [vp, pp]
    lib.hs_database_info.restype = ctypes.c_int
    lib.hs_scan.argtypes = [vp, vp, ctypes.c_uint, ctypes.c_uint, vp, _Handler, vp]
    lib.hs_scan.restype = ctypes.c_int
    if lib.hs_valid_platform() != _SUCCESS:
        return None
    return lib


class _Scratch:
    """One thread's scratch space for one database, freed with it."""

    __slots__ = ("_lib", "pointer")

    def __init__(self, lib: ctypes.CDLL, db: ctypes.c_void_p) -> None:
        self._lib = lib
        self.pointer = ctypes.c_void_p()
        rc = lib.hs_alloc_scratch(db, ctypes.byref(self.pointer))
        if rc != _SUCCESS:
            raise HyperscanError(f"hs_alloc_scratch failed ({rc})")

    def __del__(self) -> None:
        if self.pointer:
            self._lib.hs_free_scratch(self.pointer)
            self.pointer = ctypes.c_void_p()


def _info(lib: ctypes.CDLL, db: ctypes.c_void_p) -> str:
    """The database's version and the CPU features its code uses ("Features: AVX2 ...")."""
    text = ctypes.c_void_p()
    if lib.hs_database_info(db, ctypes.byref(text)) != _SUCCESS or not text:
        return ""
    try:
        return (ctypes.string_at(text) or b"").decode(errors="replace")
    finally:
        ctypes.CDLL(None).free(text)  # allocated with the library's default allocator, malloc


class NativeScanner:
    """A block-mode database of byte patterns compiled by the system's library. `scan` calls
    `on_end(end)` for each match with the offset just past it, like the wheel's handler."""

    __slots__ = ("_db", "_lib", "_local", "info")
    native = True

    def __init__(self, lib: ctypes.CDLL, patterns: Sequence[bytes], flags: int) -> None:
        self._lib = lib
        n = len(patterns)
        expressions = (ctypes.c_char_p * n)(*patterns)
        all_flags = (ctypes.c_uint * n)(*([flags] * n))
        ids = (ctypes.c_uint * n)(*range(n))
        db = ctypes.c_void_p()
        error = ctypes.POINTER(_CompileError)()
        rc = lib.hs_compile_multi(
            expressions, all_flags, ids, n, _MODE_BLOCK, None, ctypes.byref(db), ctypes.byref(error)
        )
        if rc != _SUCCESS:
            message = (error.contents.message or b"") if error else b""
            if error:
                lib.hs_free_compile_error(error)
            raise HyperscanError(
                f"hs_compile_multi failed ({rc}): {message.decode(errors='replace')}"
            )
        self._db = db
        self._local = threading.local()
        self.info = _info(lib, db)

    def __del__(self) -> None:
        db = getattr(self, "_db", None)
        if db:
            self._local = threading.local()  # the scratches go first
            self._lib.hs_free_database(db)
            self._db = ctypes.c_void_p()

    def _scratch(self) -> _Scratch:
        scratch: _Scratch | None = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = _Scratch(self._lib, self._db)
            self._local.scratch = scratch
        return scratch

    def scan(self, buf: bytes | bytearray, size: int, on_end: Callable[[int], None]) -> None:
        """Scan the first `size` bytes of `buf` in place (no copy)."""
        if size > len(buf):
            raise ValueError("size is past the end of the buffer")
        if size > _MAX_LENGTH:
            raise ValueError("a block scan takes at most 4 GiB")
        failure: list[BaseException] = []

        def handler(_id: int, _start: int, end: int, _flags: int, _ctx: object) -> int:
            try:
                on_end(end)
            except BaseException as exc:  # re-raised below, once the scan has stopped
                failure.append(exc)
                return 1  # stop the scan
            return 0

        callback = _Handler(handler)
        data: ctypes.Array[ctypes.c_char] | bytes
        data = buf if isinstance(buf, bytes) else (ctypes.c_char * size).from_buffer(buf)
        try:
            rc = self._lib.hs_scan(self._db, data, size, 0, self._scratch().pointer, callback, None)
        finally:
            del data  # releases the bytearray's export
        if failure:
            raise failure[0]
        if rc not in (_SUCCESS, _SCAN_TERMINATED):
            raise HyperscanError(f"hs_scan failed ({rc})")


def version() -> str | None:
    """The system library's version line, or None where it is not available."""
    lib = library()
    if lib is None:
        return None
    raw: bytes | None = lib.hs_version()
    return raw.decode(errors="replace") if raw else None
