"""Walk files, folders and nested archives as a stream of members, safely and within limits.

`walk()` yields a `Member` for every readable file (on disk or inside zip, tar[.gz|.bz2|.xz],
7z, rar, and single .gz/.bz2/.xz streams, nested up to `Limits.max_depth`) and a `Problem`
for everything it had to skip. It never raises for bad input and never writes anything to
disk except short-lived spool files (random names) under `workdir` for nested archives that
need seeking (zip, 7z, rar). Member names are hostile input: they are only ever used as
labels, sanitised, never as paths.

Reading a member can still fail half-way (a bad CRC is only known at the end of the data,
a bomb only once it inflates): `Member.open()` streams raise `FeedError` (an `ArchiveError`)
mid-read. Consumers must catch `FeedError` around reading a member, or use `read_member()`.

A `Member` is valid until the walk advances to the next item. Members of single-pass
containers (tar, 7z, compressed streams) are streamed: they can be re-opened (from byte 0)
only while less than `REPLAY_LIMIT` bytes of them have been read. `Member.head` holds the
first bytes of every member so consumers can classify it without opening it.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import logging
import lzma
import os
import queue
import re
import shutil
import struct
import tarfile
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, TypeVar, cast

import py7zr
import py7zr.exceptions
import py7zr.io
import rarfile

from monitor.errors import FeedError
from monitor.types import Problem

try:  # AES-encrypted zip members (WinZip AE-1/AE-2) need pyzipper; ZipCrypto does not.
    import pyzipper
except ImportError:  # pragma: no cover - optional dependency
    pyzipper = None

__all__ = [
    "HEAD_SIZE",
    "ArchiveError",
    "LimitExceeded",
    "Limits",
    "Member",
    "Problem",
    "read_member",
    "safe_name",
    "sniff_archive",
    "walk",
]

log = logging.getLogger(__name__)

HEAD_SIZE = 4096
"""Bytes of every member read up front: archive sniffing and `Member.head`."""

REPLAY_LIMIT = 1 << 20
"""A member of a single-pass archive can be re-opened until this many bytes were read."""

_BUFFER = 1 << 16
_COPY_CHUNK = 1 << 20
_AES_METHOD = 99
_NOISE_FILES = frozenset({".ds_store", "thumbs.db"})
_NOISE_DIRS = frozenset({"__macosx"})
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")

T = TypeVar("T")
_Entries = Generator["_Entry | Problem", None, None]


# --------------------------------------------------------------------------- public records


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Caps that keep a hostile archive from exhausting memory, disk or time.

    `max_ratio` is enforced once a member (or a compressed layer) has produced more than
    `ratio_floor` bytes, so small, very compressible text files are not mistaken for bombs.
    """

    max_depth: int = 4
    max_member_size: int = 4 << 30
    max_total_size: int = 64 << 30
    max_ratio: float = 200.0
    max_members: int = 1_000_000
    ratio_floor: int = 1 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    """A readable file found by `walk()`; `open()` streams its bytes (see the module notes)."""

    origin: str
    name: str
    size: int | None
    head: bytes = field(default=b"", repr=False, compare=False)
    _opener: Callable[[], BinaryIO] = field(repr=False, compare=False)

    def open(self) -> BinaryIO:
        """A read-only stream of the member's bytes; reading may raise `FeedError`."""
        return self._opener()

    @classmethod
    def from_bytes(cls, *, origin: str, name: str, data: bytes) -> Member:
        """An in-memory member (for tests and for feeds that already hold the bytes)."""
        return cls(
            origin=origin,
            name=name,
            size=len(data),
            head=data[:HEAD_SIZE],
            _opener=lambda: io.BytesIO(data),
        )


class ArchiveError(FeedError):
    """A member or archive could not be read; `reason` is a constant phrase, safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LimitExceeded(ArchiveError):
    """A size, ratio or count limit was exceeded (a probable decompression bomb)."""


class _BudgetExceeded(LimitExceeded):
    """A per-top-level-archive limit: the rest of that archive is skipped."""


def read_member(member: Member, reader: Callable[[BinaryIO], T]) -> T | Problem:
    """Open `member`, pass the stream to `reader` and close it; a read failure is a `Problem`.

    Only `FeedError` (corrupt data, bad CRC, limits) becomes a `Problem`; a bug in `reader`
    still raises.
    """
    try:
        with member.open() as stream:
            return reader(stream)
    except FeedError as exc:
        return Problem(origin=member.origin, reason=_reason_of(exc))


def safe_name(raw: str) -> str:
    """A member name usable only as a label: "/" separators, no root, drive, "." or "..".

    Backslashes become "/", control characters "_"; an empty result is "_".
    """
    text = _CONTROL_CHARS.sub("_", raw.replace("\\", "/"))
    parts: list[str] = []
    for part in text.split("/"):
        if not parts:
            part = _DRIVE.sub("", part)
        if part in ("", ".", ".."):
            continue
        parts.append(part)
    return "/".join(parts) or "_"


def sniff_archive(head: bytes) -> str | None:
    """The container kind announced by magic bytes: zip, 7z, rar, gz, bz2, xz, tar or None."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "zip"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if head.startswith((b"Rar!\x1a\x07\x00", b"Rar!\x1a\x07\x01\x00")):
        return "rar"
    if head.startswith(b"\x1f\x8b"):
        return "gz"
    if re.match(rb"BZh[1-9](1AY&SY|\x17rE8P\x90)", head[:10]):
        return "bz2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if len(head) >= 512 and (head[257:262] == b"ustar" or _tar_checksum_ok(head[:512])):
        return "tar"
    return None


def walk(
    paths: Sequence[Path],
    *,
    limits: Limits = Limits(),
    passwords: Sequence[str] = (),
    workdir: Path,
) -> Iterator[Member | Problem]:
    """Yield every member of `paths` (files, folders, archives) or a `Problem` for it.

    Folders are walked in sorted order; symlinks leaving a folder are skipped. Archives are
    found by magic bytes and walked recursively; encrypted ones are tried with no password,
    then each of `passwords`. Nothing is written outside `workdir`.
    """
    yield from _Walker(limits=limits, passwords=passwords, workdir=workdir).run(paths)


# --------------------------------------------------------------------------- errors → reasons


def _reason_of(exc: BaseException) -> str:
    if isinstance(exc, ArchiveError):
        return exc.reason
    if isinstance(exc, py7zr.exceptions.CrcError | rarfile.RarCRCError):
        return "bad CRC"
    if isinstance(exc, zipfile.BadZipFile):
        return "bad CRC" if "CRC" in str(exc) else "corrupt zip member"
    if isinstance(exc, zlib.error | lzma.LZMAError | gzip.BadGzipFile):
        return "bad compressed data"
    if isinstance(exc, EOFError):
        return "truncated data"
    if isinstance(exc, tarfile.ReadError):
        return "truncated data" if "unexpected end" in str(exc) else "corrupt tar"
    if isinstance(exc, rarfile.RarCannotExec):
        return "rar backend missing"
    if isinstance(exc, RuntimeError) and "password" in str(exc).lower():
        return "encrypted, no configured password fits"
    if isinstance(exc, NotImplementedError | py7zr.exceptions.UnsupportedCompressionMethodError):
        return "unsupported compression method"
    if isinstance(exc, OSError) and "invalid data stream" in str(exc).lower():
        return "bad compressed data"
    return f"unreadable ({type(exc).__name__})"


def _as_archive_error(exc: BaseException) -> ArchiveError:
    if isinstance(exc, ArchiveError):
        return exc
    return ArchiveError(_reason_of(exc))


# --------------------------------------------------------------------------- streams


class _Budget:
    """Uncompressed bytes and members counted per top-level archive."""

    __slots__ = ("limits", "members", "total")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.total = 0
        self.members = 0

    def charge(self, size: int) -> None:
        self.total += size
        if self.total > self.limits.max_total_size:
            raise _BudgetExceeded("archive total size limit exceeded")

    def count_member(self) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise _BudgetExceeded("too many members")


class _Meter(io.RawIOBase):
    """Counts the bytes read through it (the compressed side of a layer)."""

    def __init__(self, source: IO[bytes]) -> None:
        super().__init__()
        self._source = source
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = _read_some(self._source, len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        return size


class _Guard(io.RawIOBase):
    """Turns any read failure into `ArchiveError` and enforces size, ratio and budget limits."""

    def __init__(
        self,
        source: IO[bytes],
        *,
        limits: Limits,
        max_size: int | None,
        packed: int | Callable[[], int] | None,
        budget: _Budget | None,
        declared: int = 0,
    ) -> None:
        super().__init__()
        self._source = source
        self._declared = declared
        self._charged = 0
        self._limits = limits
        self._max_size = max_size
        self._packed = packed
        self._budget = budget
        self._count = 0
        self._failure: ArchiveError | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._failure is not None:
            raise self._failure
        try:
            data = _read_some(self._source, len(buffer))
            size = len(data)
            if size:
                self._count += size
                self._check(size)
        except Exception as exc:
            self._failure = _as_archive_error(exc)
            raise self._failure from exc
        buffer[:size] = data
        return size

    def _check(self, size: int) -> None:
        if self._max_size is not None and self._count > self._max_size:
            raise LimitExceeded("member size limit exceeded")
        if self._packed is not None and self._count > self._limits.ratio_floor:
            packed = self._packed() if callable(self._packed) else self._packed
            ratio = self._count / max(packed, 1)
            if ratio > self._limits.max_ratio:
                raise LimitExceeded(f"zip bomb (ratio {int(ratio)})")
        if self._budget is not None:
            # declared sizes were charged up front; only bytes beyond them (lying headers,
            # unknown sizes) are charged while streaming
            excess = self._count - self._declared
            if excess > self._charged:
                self._budget.charge(excess - self._charged)
                self._charged = excess

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(Exception):
                self._source.close()
        super().close()


class _Prefixed(io.RawIOBase):
    """`head` followed by the rest of `source`; closing it leaves `source` to its owner."""

    def __init__(self, head: bytes, source: IO[bytes]) -> None:
        super().__init__()
        self._head = head
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = _read_some(self._source, len(buffer))
        size = len(data)
        buffer[:size] = data
        return size


class _Concat(io.RawIOBase):
    """A seekable view: the first `prefix` bytes of `source`, then `tail` (a rebuilt zip)."""

    def __init__(self, source: IO[bytes], prefix: int, tail: bytes) -> None:
        super().__init__()
        self._source = source
        self._prefix = prefix
        self._tail = tail
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        size = self._prefix + len(self._tail)
        base = {0: 0, 1: self._pos, 2: size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._pos < self._prefix:
            self._source.seek(self._pos)
            data = self._source.read(min(len(buffer), self._prefix - self._pos))
        else:
            start = self._pos - self._prefix
            data = self._tail[start : start + len(buffer)]
        size = len(data)
        buffer[:size] = data
        self._pos += size
        return size


def _read_some(source: IO[bytes], size: int) -> bytes:
    """Up to `size` bytes in one step: a decoder's partial output is returned before its error."""
    read1 = getattr(source, "read1", None)
    if read1 is not None:
        return cast(bytes, read1(size))
    return source.read(size)


def _buffered(raw: io.RawIOBase) -> BinaryIO:
    return io.BufferedReader(raw, _BUFFER)


def _read_head(stream: IO[bytes], size: int = HEAD_SIZE) -> bytes:
    parts: list[bytes] = []
    missing = size
    while missing > 0:
        data = stream.read(missing)
        if not data:
            break
        parts.append(data)
        missing -= len(data)
    return b"".join(parts)


def _tar_checksum_ok(block: bytes) -> bool:
    if block[0] == 0:
        return False
    field_ = block[148:156].replace(b"\x00", b" ").strip()
    if not field_ or not all(48 <= c <= 55 for c in field_):
        return False
    stored = int(field_, 8)
    computed = sum(block[:148]) + 8 * 32 + sum(block[156:512])
    return stored == computed


def _is_noise(name: str) -> bool:
    parts = name.lower().split("/")
    return parts[-1] in _NOISE_FILES or any(p in _NOISE_DIRS for p in parts[:-1])


# --------------------------------------------------------------------------- container entries


@dataclass(slots=True, kw_only=True)
class _Entry:
    """One file inside a container, before sniffing. `open` returns a guarded stream."""

    name: str
    size: int | None
    packed: int | None
    open: Callable[[], BinaryIO]
    single_pass: bool


class _Once:
    """Opener of an entry whose stream already exists (single-pass containers)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream: BinaryIO | None = stream

    def __call__(self) -> BinaryIO:
        if self._stream is None:
            raise ArchiveError("member already read (single-pass archive)")
        stream, self._stream = self._stream, None
        return stream


class _Replay:
    """Opener for a member of a single-pass container (tar, 7z, compressed stream).

    Every `open()` starts at byte 0: bytes already pulled from the live stream are replayed
    from a buffer, the rest is read on. Once more than `REPLAY_LIMIT` bytes have been read
    the buffer is dropped (memory stays flat) and a new `open()` raises `ArchiveError`.
    """

    def __init__(self, live: IO[bytes]) -> None:
        self._live = live
        self._buffer = bytearray()
        self._live_pos = 0
        self._kept = True

    def __call__(self) -> BinaryIO:
        if not self._kept:
            raise ArchiveError("member already read (single-pass archive)")
        return _buffered(_ReplayReader(self))

    def read_at(self, pos: int, size: int) -> bytes:
        if pos < self._live_pos:
            if not self._kept:
                raise ArchiveError("member already read (single-pass archive)")
            return bytes(self._buffer[pos : pos + size])
        data = _read_some(self._live, size)
        self._live_pos += len(data)
        if self._kept:
            if len(self._buffer) + len(data) <= REPLAY_LIMIT:
                self._buffer += data
            else:
                self._kept = False
                self._buffer = bytearray()
        return data


class _ReplayReader(io.RawIOBase):
    def __init__(self, replay: _Replay) -> None:
        super().__init__()
        self._replay = replay
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._replay.read_at(self._pos, len(buffer))
        size = len(data)
        buffer[:size] = data
        self._pos += size
        return size


class _Walker:
    def __init__(self, *, limits: Limits, passwords: Sequence[str], workdir: Path) -> None:
        self.limits = limits
        self.passwords = list(dict.fromkeys(passwords))
        self.workdir = workdir

    # ---- passwords

    def _candidates(self) -> list[str]:
        return list(self.passwords)

    def _remember(self, password: str) -> None:
        """Try a password that worked first next time (one set often shares one password)."""
        if self.passwords and self.passwords[0] != password:
            self.passwords.remove(password)
            self.passwords.insert(0, password)

    # ---- files and folders

    def run(self, paths: Sequence[Path]) -> Iterator[Member | Problem]:
        for path in paths:
            origin = str(path)
            try:
                if path.is_dir():
                    yield from self._folder(path)
                elif path.is_file():
                    yield from self._file(path, origin=origin, name=safe_name(path.name))
                elif path.exists() or path.is_symlink():
                    yield Problem(origin=origin, reason="not a regular file")
                else:
                    yield Problem(origin=origin, reason="not found")
            except OSError:
                yield Problem(origin=origin, reason="unreadable file")

    def _folder(self, root: Path) -> Iterator[Member | Problem]:
        real_root = root.resolve()
        skip = {self.workdir.resolve()}
        stack: list[Path] = [root]
        while stack:
            folder = stack.pop()
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                yield Problem(origin=str(folder), reason="unreadable folder")
                continue
            subfolders: list[Path] = []
            for entry in entries:
                path = Path(entry.path)
                lowered = entry.name.lower()
                if lowered in _NOISE_FILES or lowered in _NOISE_DIRS:
                    continue
                if entry.is_symlink():
                    target = path.resolve()
                    if not target.is_relative_to(real_root):
                        yield Problem(origin=str(path), reason="symlink leaves the tree")
                        continue
                    if target.is_dir():
                        continue  # its target is walked where it really is
                if entry.is_dir(follow_symlinks=False):
                    if path.resolve() not in skip:
                        subfolders.append(path)
                elif entry.is_file():
                    name = safe_name(path.relative_to(root).as_posix())
                    yield from self._file(path, origin=str(path), name=name)
            stack.extend(reversed(subfolders))
        # depth-first in sorted order: files of a folder come before its subfolders

    def _file(self, path: Path, *, origin: str, name: str) -> Iterator[Member | Problem]:
        try:
            with path.open("rb") as handle:
                head = _read_head(handle)
                size = os.fstat(handle.fileno()).st_size
        except OSError:
            yield Problem(origin=origin, reason="unreadable file")
            return
        kind = sniff_archive(head)
        if kind is None:

            def opener() -> BinaryIO:
                try:
                    handle = path.open("rb")
                except OSError as exc:
                    raise ArchiveError("unreadable file") from exc
                return _buffered(
                    _Guard(handle, limits=self.limits, max_size=None, packed=None, budget=None)
                )

            yield Member(origin=origin, name=name, size=size, head=head, _opener=opener)
            return
        budget = _Budget(self.limits)
        yield from self._archive(kind, origin=origin, name=name, depth=0, budget=budget, path=path)

    # ---- archives

    def _archive(
        self,
        kind: str,
        *,
        origin: str,
        name: str,
        depth: int,
        budget: _Budget,
        path: Path | None = None,
        stream: BinaryIO | None = None,
    ) -> Iterator[Member | Problem]:
        """Walk one container found at `origin`, read from `path` or from `stream`."""
        try:
            if kind in ("gz", "bz2", "xz"):
                yield from self._layer(kind, origin, name, depth, budget, path, stream)
                return
            with contextlib.ExitStack() as stack:
                if kind == "tar":
                    source = stream if stream is not None else stack.enter_context(_open(path))
                    entries = self._tar(source, origin, budget)
                else:
                    if path is None:
                        assert stream is not None
                        path = stack.enter_context(self._spool(stream))
                    if kind == "zip":
                        entries = self._zip(path, origin, budget)
                    elif kind == "7z":
                        entries = self._sevenzip(path, origin, budget)
                    else:
                        entries = self._rar(path, origin, budget)
                with contextlib.closing(entries):
                    for item in entries:
                        if isinstance(item, Problem):
                            yield item
                        else:
                            yield from self._entry(item, origin, depth, budget)
        except ArchiveError as exc:
            yield Problem(origin=origin, reason=exc.reason)
        except Exception as exc:  # a library choking on hostile input must not stop the walk
            log.warning("archive unreadable", extra={"origin": origin, "error": type(exc).__name__})
            yield Problem(origin=origin, reason=f"unreadable archive ({type(exc).__name__})")

    def _entry(
        self, entry: _Entry, parent: str, depth: int, budget: _Budget
    ) -> Iterator[Member | Problem]:
        origin = f"{parent}!{entry.name}"
        if _is_noise(entry.name):
            return
        budget.count_member()  # LimitExceeded stops the whole archive
        limits = self.limits
        if entry.size is not None and entry.size > limits.max_member_size:
            yield Problem(origin=origin, reason="member size limit exceeded")
            return
        if entry.size is not None:
            budget.charge(entry.size)
        if entry.size is not None and entry.packed is not None and entry.size > limits.ratio_floor:
            ratio = entry.size / max(entry.packed, 1)
            if ratio > limits.max_ratio:
                yield Problem(origin=origin, reason=f"zip bomb (ratio {int(ratio)})")
                return
        try:
            stream = entry.open()
        except _BudgetExceeded:
            raise
        except Exception as exc:
            yield Problem(origin=origin, reason=_reason_of(exc))
            return
        replay = _Replay(stream) if entry.single_pass else None
        with contextlib.closing(stream):
            try:
                # no read-ahead: a member cut short still shows its first bytes
                head = _read_head(
                    cast(IO[bytes], _ReplayReader(replay)) if replay is not None else stream
                )
            except _BudgetExceeded:
                raise
            except Exception as exc:
                yield Problem(origin=origin, reason=_reason_of(exc))
                return
            kind = sniff_archive(head)
            if kind is not None:
                if depth + 1 > limits.max_depth:
                    yield Problem(origin=origin, reason=f"nesting too deep (depth {depth + 1})")
                    return
                nested = replay() if replay is not None else _buffered(_Prefixed(head, stream))
                yield from self._archive(
                    kind, origin=origin, name=entry.name, depth=depth + 1, budget=budget,
                    stream=nested,
                )  # fmt: skip
                return
            opener: Callable[[], BinaryIO] = replay if replay is not None else entry.open
            yield Member(origin=origin, name=entry.name, size=entry.size, head=head, _opener=opener)

    @contextlib.contextmanager
    def _spool(self, stream: BinaryIO) -> Iterator[Path]:
        """Copy a nested archive to a random temp file under `workdir`, removed afterwards."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.workdir, prefix=".credwatch-", suffix=".spool")
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(stream, out, _COPY_CHUNK)
            yield Path(name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)

    # ---- compressed streams (.gz .bz2 .xz): a tar inside is walked in place

    def _layer(
        self,
        kind: str,
        origin: str,
        name: str,
        depth: int,
        budget: _Budget,
        path: Path | None,
        stream: BinaryIO | None,
    ) -> Iterator[Member | Problem]:
        with contextlib.ExitStack() as stack:
            source: IO[bytes] = stream if stream is not None else stack.enter_context(_open(path))
            meter = _Meter(source)
            decoded = _decompressor(kind, _buffered(meter))
            guarded = _buffered(
                _Guard(decoded, limits=self.limits, max_size=None, packed=lambda: meter.count,
                       budget=None)
            )  # fmt: skip
            stack.callback(guarded.close)
            try:
                head = _read_head(guarded)
            except ArchiveError as exc:
                yield Problem(origin=origin, reason=exc.reason)
                return
            inner = _buffered(_Prefixed(head, guarded))
            if sniff_archive(head) == "tar":
                yield from self._archive(
                    "tar", origin=origin, name=name, depth=depth, budget=budget, stream=inner
                )
                return
            single = _buffered(
                _Guard(inner, limits=self.limits, max_size=self.limits.max_member_size,
                       packed=None, budget=budget)
            )  # fmt: skip
            entry = _Entry(
                name=_strip_compression_suffix(name, kind),
                size=None,
                packed=None,
                open=_Once(single),
                single_pass=True,
            )
            yield from self._entry(entry, origin, depth, budget)

    # ---- tar

    def _tar(self, source: IO[bytes], origin: str, budget: _Budget) -> _Entries:
        try:
            archive = tarfile.open(fileobj=source, mode="r|")  # noqa: SIM115 - closed below
        except Exception as exc:
            yield Problem(origin=origin, reason=_tar_reason(exc))
            return
        with archive:
            try:
                for info in archive:
                    if not info.isreg():
                        continue
                    member = archive.extractfile(info)
                    if member is None:
                        continue
                    stream = _buffered(
                        _Guard(member, limits=self.limits, max_size=self.limits.max_member_size,
                               packed=None, budget=budget, declared=info.size)
                    )  # fmt: skip
                    yield _Entry(
                        name=safe_name(info.name),
                        size=info.size,
                        packed=None,
                        open=_Once(stream),
                        single_pass=True,
                    )
            except _BudgetExceeded:
                raise
            except Exception as exc:
                yield Problem(origin=origin, reason=_tar_reason(exc))

    # ---- zip

    def _zip(self, path: Path, origin: str, budget: _Budget) -> _Entries:
        with contextlib.ExitStack() as stack:
            handle = stack.enter_context(path.open("rb"))
            try:
                archive = stack.enter_context(zipfile.ZipFile(handle))
                salvaged = False
            except Exception:
                rebuilt = _salvage_zip(handle)
                if rebuilt is None:
                    yield Problem(origin=origin, reason="corrupt zip (no readable member)")
                    return
                yield Problem(origin=origin, reason="truncated archive (no central directory)")
                try:
                    archive = stack.enter_context(zipfile.ZipFile(rebuilt))
                except Exception:
                    yield Problem(origin=origin, reason="corrupt zip (no readable member)")
                    return
                salvaged = True
            aes: list[Any] = []  # the pyzipper view, opened on the first AES member

            def aes_archive() -> Any:
                if not aes:
                    if pyzipper is None:
                        raise ArchiveError("AES-encrypted zip member, pyzipper not installed")
                    if salvaged:
                        raise ArchiveError("AES-encrypted member in a truncated zip")
                    aes.append(stack.enter_context(pyzipper.AESZipFile(str(path))))
                return aes[0]

            for index, info in enumerate(archive.infolist()):
                if info.is_dir():
                    continue
                yield _Entry(
                    name=safe_name(_zip_name(info)),
                    size=info.file_size,
                    packed=info.compress_size,
                    open=self._zip_opener(archive, index, info, budget, aes_archive),
                    single_pass=False,
                )

    def _zip_opener(
        self,
        archive: zipfile.ZipFile,
        index: int,
        info: zipfile.ZipInfo,
        budget: _Budget,
        aes_archive: Callable[[], Any],
    ) -> Callable[[], BinaryIO]:
        def guard(raw: IO[bytes]) -> BinaryIO:
            return _buffered(
                _Guard(raw, limits=self.limits, max_size=self.limits.max_member_size,
                       packed=info.compress_size, budget=budget, declared=info.file_size)
            )  # fmt: skip

        def opener() -> BinaryIO:
            try:
                if not info.flag_bits & 0x1:
                    return guard(archive.open(info))
                if info.compress_type == _AES_METHOD:
                    aes = aes_archive()
                    aes_info = aes.infolist()[index]
                    return self._with_password(lambda pwd: aes.open(aes_info, pwd=pwd), guard)
                return self._with_password(lambda pwd: archive.open(info, pwd=pwd), guard)
            except ArchiveError:
                raise
            except Exception as exc:
                raise _as_archive_error(exc) from exc

        return opener

    def _with_password(
        self, open_: Callable[[bytes], IO[bytes]], guard: Callable[[IO[bytes]], BinaryIO]
    ) -> BinaryIO:
        """Open an encrypted member with the first configured password whose data decodes."""
        for password in self._candidates():
            try:
                raw = open_(password.encode("utf-8"))
            except RuntimeError:
                continue  # wrong password (the check bytes said so)
            stream = guard(raw)
            try:
                head = _read_head(stream)
            except LimitExceeded:
                stream.close()
                raise
            except ArchiveError:
                stream.close()
                continue  # the check bytes matched by chance: the data does not decode
            self._remember(password)
            return _buffered(_Prefixed(head, stream))
        raise ArchiveError("encrypted, no configured password fits")

    # ---- 7z

    def _sevenzip(self, path: Path, origin: str, budget: _Budget) -> _Entries:
        candidates: list[str | None] = [None, *self._candidates()]
        encrypted = False
        for password in candidates:
            with contextlib.ExitStack() as stack:
                handle = stack.enter_context(path.open("rb"))
                try:
                    archive = py7zr.SevenZipFile(handle, password=password)
                except py7zr.exceptions.PasswordRequired:
                    encrypted = True
                    continue
                except Exception as exc:
                    if password is not None:
                        continue  # an encrypted header that this password does not open
                    if _looks_encrypted(exc):
                        encrypted = True
                        continue
                    yield Problem(origin=origin, reason=f"corrupt 7z ({_reason_of(exc)})")
                    return
                stack.callback(archive.close)
                if password is None and archive.needs_password():
                    encrypted = True
                    continue
                declared = sum(f.uncompressed for f in archive.files if not f.emptystream)
                packed = max(1, path.stat().st_size)
                if declared > self.limits.ratio_floor and declared / packed > self.limits.max_ratio:
                    yield Problem(origin=origin, reason=f"zip bomb (ratio {declared // packed})")
                    return
                pump = _SevenZipPump(archive)
                stack.callback(pump.cancel)
                prefix = b""
                try:
                    first = pump.next_member()
                    if first is not None and password is not None:
                        prefix = _read_head(cast(IO[bytes], first[1]))
                except ArchiveError as exc:
                    if password is not None:
                        continue  # wrong password: the first member does not decode
                    yield Problem(origin=origin, reason=exc.reason)
                    return
                if password is not None:
                    self._remember(password)
                files = {str(f.id): f for f in archive.files}
                current = first
                while current is not None:
                    key, reader = current
                    info = files[key]
                    stream = _buffered(
                        _Guard(_buffered(_Prefixed(prefix, cast(IO[bytes], reader))), limits=self.limits,
                               max_size=self.limits.max_member_size, packed=None, budget=budget,
                               declared=info.uncompressed)
                    )  # fmt: skip
                    prefix = b""
                    if not info.is_directory:
                        yield _Entry(
                            name=safe_name(info.filename),
                            size=info.uncompressed,
                            packed=None,
                            open=_Once(stream),
                            single_pass=True,
                        )
                    try:
                        reader.drain()
                        current = pump.next_member()
                    except ArchiveError as exc:
                        yield Problem(origin=f"{origin}!{safe_name(info.filename)}",
                                      reason=exc.reason)  # fmt: skip
                        return
                return
        if encrypted:
            yield Problem(origin=origin, reason="encrypted, no configured password fits")
        else:
            yield Problem(origin=origin, reason="corrupt 7z")

    # ---- rar

    def _rar(self, path: Path, origin: str, budget: _Budget) -> _Entries:
        try:
            archive = rarfile.RarFile(str(path))
        except Exception as exc:
            yield Problem(origin=origin, reason=f"corrupt rar ({_reason_of(exc)})")
            return
        if archive.needs_password() and not archive.infolist():
            for password in self._candidates():  # encrypted headers: the listing needs it
                with contextlib.suppress(Exception):
                    archive.setpassword(password)
                if archive.infolist():
                    self._remember(password)
                    break
            else:
                archive.close()
                yield Problem(origin=origin, reason="encrypted, no configured password fits")
                return
        with archive:
            try:
                rarfile.tool_setup()
                have_tool = True
            except rarfile.RarCannotExec:
                have_tool = False
            skipped = 0
            for info in archive.infolist():
                if info.is_dir():
                    continue
                direct = info.compress_type == rarfile.RAR_M0 and not info.needs_password()
                if not direct and not have_tool:
                    skipped += 1
                    continue
                yield _Entry(
                    name=safe_name(info.filename or ""),
                    size=info.file_size,
                    packed=info.compress_size,
                    open=self._rar_opener(archive, info, budget),
                    single_pass=False,
                )
            if skipped:
                yield Problem(origin=origin, reason="rar backend missing")

    def _rar_opener(
        self, archive: rarfile.RarFile, info: Any, budget: _Budget
    ) -> Callable[[], BinaryIO]:
        def guard(raw: IO[bytes]) -> BinaryIO:
            return _buffered(
                _Guard(raw, limits=self.limits, max_size=self.limits.max_member_size,
                       packed=info.compress_size, budget=budget, declared=info.file_size)
            )  # fmt: skip

        def opener() -> BinaryIO:
            try:
                if not info.needs_password():
                    return guard(archive.open(info))
                return self._with_password(
                    lambda pwd: archive.open(info, pwd=pwd.decode("utf-8")), guard
                )
            except ArchiveError:
                raise
            except Exception as exc:
                raise _as_archive_error(exc) from exc

        return opener


# --------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def _open(path: Path | None) -> Iterator[IO[bytes]]:
    assert path is not None
    with path.open("rb") as handle:
        yield handle


def _decompressor(kind: str, source: BinaryIO) -> IO[bytes]:
    if kind == "gz":
        return cast(IO[bytes], gzip.GzipFile(fileobj=source, mode="rb"))
    if kind == "bz2":
        return bz2.BZ2File(source)
    return lzma.LZMAFile(source)


def _strip_compression_suffix(name: str, kind: str) -> str:
    lowered = name.lower()
    if lowered.endswith(".tgz"):
        return name[:-4] + ".tar"
    suffix = {"gz": ".gz", "bz2": ".bz2", "xz": ".xz"}[kind]
    if lowered.endswith(suffix) and len(name) > len(suffix):
        return name[: -len(suffix)]
    return name


def _tar_reason(exc: BaseException) -> str:
    reason = _reason_of(exc)
    if reason in ("truncated data", "bad compressed data") or isinstance(exc, EOFError):
        return "truncated archive"
    return reason


def _looks_encrypted(exc: BaseException) -> bool:
    return "password" in str(exc).lower()


def _zip_name(info: zipfile.ZipInfo) -> str:
    """The member name; legacy (non-UTF-8-flagged) names that are valid UTF-8 are fixed."""
    name = info.filename
    if not info.flag_bits & 0x800:
        with contextlib.suppress(UnicodeError):
            name = name.encode("cp437").decode("utf-8")
    return name


def _salvage_zip(handle: BinaryIO) -> BinaryIO | None:
    """Rebuild a central directory from the local headers of a zip cut short.

    Members whose data is complete are kept; the first damaged or cut member ends the scan.
    Returns a seekable view that `zipfile` can open, or None when nothing is readable.
    """
    size = handle.seek(0, os.SEEK_END)
    records: list[bytes] = []
    pos = 0
    while pos + 30 <= size:
        handle.seek(pos)
        header = handle.read(30)
        if header[:4] != b"PK\x03\x04":
            break
        (_, version, flags, method, mtime, mdate, crc, csize, usize, nlen, xlen) = struct.unpack(
            "<4sHHHHHIIIHH", header
        )
        name = handle.read(nlen)
        start = pos + 30 + nlen + xlen
        end = start + csize
        if flags & 0x08:
            found = _descriptor_sizes(handle, start, size, method, flags)
            if found is None:
                break
            crc, csize, usize, end = found
        elif csize == 0xFFFFFFFF or usize == 0xFFFFFFFF or end > size:
            break
        records.append(
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02", 20, version, flags, method, mtime, mdate, crc, csize, usize,
                nlen, 0, 0, 0, 0, 0, pos,
            )
            + name
        )  # fmt: skip
        pos = end
    if not records:
        return None
    directory = b"".join(records)
    count = len(records)
    end_record = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(directory),
                             pos, 0)  # fmt: skip
    return _buffered(_Concat(handle, pos, directory + end_record))


def _descriptor_sizes(
    handle: BinaryIO, start: int, size: int, method: int, flags: int
) -> tuple[int, int, int, int] | None:
    """For a streamed (bit 3) deflate member: (crc, compressed, uncompressed, end offset)."""
    if method != zipfile.ZIP_DEFLATED or flags & 0x1:
        return None
    handle.seek(start)
    decoder = zlib.decompressobj(-15)
    consumed = 0
    while not decoder.eof:
        data = handle.read(_COPY_CHUNK)
        if not data:
            return None
        try:
            decoder.decompress(data, 0)
        except zlib.error:
            return None
        consumed += len(data) - len(decoder.unused_data)
    csize = consumed
    tail_at = start + csize
    handle.seek(tail_at)
    tail = handle.read(16)
    if tail[:4] == b"PK\x07\x08":
        tail, skip = tail[4:], 16
    else:
        skip = 12
    if len(tail) < 12 or tail_at + skip > size:
        return None
    crc, csize_d, usize = struct.unpack("<III", tail[:12])
    return crc, csize_d, usize, tail_at + skip


# --------------------------------------------------------------------------- 7z pump


class _Cancelled(Exception):
    """Raised inside the extraction thread when the walk stops early."""


class _SevenZipPump:
    """Runs py7zr's push-style extraction in a thread and hands out members as pull streams.

    The queue is bounded and chunks are small, so memory stays flat whatever the member size.
    """

    def __init__(self, archive: py7zr.SevenZipFile) -> None:
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=8)
        self._cancel = threading.Event()
        self._archive = archive
        self._terminal: tuple[str, Any] | None = None
        self._thread = threading.Thread(target=self._run, name="credwatch-7z", daemon=True)
        self._thread.start()

    # producer side (extraction thread)

    def put(self, kind: str, value: Any) -> None:
        while True:
            if self._cancel.is_set():
                raise _Cancelled
            try:
                self._queue.put((kind, value), timeout=0.05)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        archive = self._archive
        try:
            worker = archive.worker
            factory = _PumpFactory(self)
            for info in archive.files:
                if info.is_directory or info.is_socket or info.is_symlink:
                    worker.register_filelike(info.id, None)
                else:
                    worker.register_filelike(info.id, py7zr.io.MemIO(str(info.id), factory))
            _bound_chunks(worker)
            worker.extract(archive.fp, None, parallel=False)
            self.put("done", None)
        except _Cancelled:
            return
        except Exception as exc:
            with contextlib.suppress(_Cancelled):
                self.put("error", exc)

    # consumer side (walk)

    def next_member(self) -> tuple[str, _PumpReader] | None:
        kind, value = self.get()
        if kind == "start":
            return value, _PumpReader(self)
        if kind == "done":
            return None
        if kind == "error":
            raise _as_archive_error(value)
        raise ArchiveError("corrupt 7z")  # pragma: no cover - data outside a member

    def get(self) -> tuple[str, Any]:
        """The next event; once the thread has finished ("done"/"error") that one, forever."""
        if self._terminal is not None:
            return self._terminal
        item = self._queue.get()
        if item[0] in ("done", "error"):
            self._terminal = item
        return item

    def cancel(self) -> None:
        self._cancel.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                while True:
                    self._queue.get_nowait()
            self._thread.join(timeout=0.05)


class _PumpWriter(py7zr.io.Py7zIO):
    def __init__(self, pump: _SevenZipPump) -> None:
        self._pump = pump

    def write(self, s: bytes | bytearray) -> int:
        view = memoryview(s)
        for start in range(0, len(view), _BUFFER * 4):
            self._pump.put("data", bytes(view[start : start + _BUFFER * 4]))
        return len(s)

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def flush(self) -> None:
        return None

    def size(self) -> int:
        return 0

    def close(self) -> None:
        self._pump.put("end", None)


class _PumpFactory(py7zr.io.WriterFactory):
    def __init__(self, pump: _SevenZipPump) -> None:
        self._pump = pump

    def create(self, filename: str) -> py7zr.io.Py7zIO:
        self._pump.put("start", filename)
        return _PumpWriter(self._pump)


class _PumpReader(io.RawIOBase):
    """The bytes of the current 7z member; an extraction error surfaces as `ArchiveError`."""

    def __init__(self, pump: _SevenZipPump) -> None:
        super().__init__()
        self._pump = pump
        self._left = b""
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._left and not self._ended:
            kind, value = self._pump.get()
            if kind == "data":
                self._left = value
            elif kind == "end":
                self._ended = True
            elif kind == "error":
                self._ended = True
                raise _as_archive_error(value)
            else:
                raise ArchiveError("truncated data")
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size

    def drain(self) -> None:
        """Skip what the consumer left unread so the next member can start."""
        while not self._ended:
            self._left = b""
            self.readinto(memoryview(bytearray(1)))
        self._left = b""


def _bound_chunks(worker: Any) -> None:
    """Make py7zr decompress in 1 MiB steps instead of up to 128 MB (memory stays flat)."""
    stock = getattr(worker, "decompress", None)
    if stock is None:  # pragma: no cover - py7zr internals changed
        return

    def decompress(
        fp: IO[bytes],
        folder: Any,
        fq: IO[Any],
        size: int,
        compressed_size: int | None,
        src_end: int,
        q: Any = None,
    ) -> int:
        crc32 = 0
        remaining = size
        decoder = folder.get_decompressor(compressed_size)
        while remaining > 0:
            before = fp.tell()
            data = decoder.decompress(fp, min(remaining, _COPY_CHUNK))
            if data:
                remaining -= len(data)
                fq.write(data)
                crc32 = zlib.crc32(data, crc32)
            elif fp.tell() == before:
                raise py7zr.exceptions.Bad7zFile("decompression made no progress")
        if fp.tell() >= src_end and decoder.crc is not None and not decoder.check_crc():
            raise py7zr.exceptions.CrcError(decoder.crc, decoder.digest, None)
        return crc32

    worker.decompress = decompress
