"""List and open zip members: ZipCrypto with the password ring, WinZip AES through pyzipper."""

from __future__ import annotations

import contextlib
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, BinaryIO

from feeds.archive.dates import from_fields
from feeds.archive.entries import Container, Entries, Entry
from feeds.archive.errors import ArchiveError, archive_errors
from feeds.archive.names import safe_name
from feeds.archive.zip_salvage import salvage_zip
from feeds.archive.zip_sanity import unsound_entries
from monitor.types import Problem

_AES_METHOD = 99
_UTF8_NAME = 0x800
_ENCRYPTED = 0x1


def zip_entries(path: Path, box: Container) -> Entries:
    """The files of the zip at `path`; a zip cut short yields what its local headers still hold."""
    origin = box.origin
    with contextlib.ExitStack() as stack:
        handle = stack.enter_context(path.open("rb"))
        try:
            archive = stack.enter_context(zipfile.ZipFile(handle))
            salvaged = False
            source: IO[bytes] = handle
        except Exception:
            rebuilt = salvage_zip(handle)
            if rebuilt is None:
                yield Problem(origin=origin, reason="corrupt zip (no readable member)")
                return
            yield Problem(origin=origin, reason="truncated archive (no central directory)")
            source = rebuilt
            try:
                archive = stack.enter_context(zipfile.ZipFile(rebuilt))
            except Exception:
                yield Problem(origin=origin, reason="corrupt zip (no readable member)")
                return
            salvaged = True
        aes: list[Any] = []  # the pyzipper view, opened on the first AES member

        def aes_archive() -> Any:
            if not aes:
                try:  # WinZip AES needs pyzipper (imported here: it is slow to import)
                    import pyzipper
                except ImportError:  # pragma: no cover - optional dependency
                    raise ArchiveError("AES-encrypted zip member, pyzipper not installed") from None
                if salvaged:
                    raise ArchiveError("AES-encrypted member in a truncated zip")
                aes.append(stack.enter_context(pyzipper.AESZipFile(str(path))))
            return aes[0]

        infos = archive.infolist()
        unsound = unsound_entries(infos, _size_of(source))
        if unsound.overlapping:
            yield Problem(
                origin=origin,
                reason=f"{len(unsound.overlapping)} overlapping entries skipped (a zip bomb)",
            )
        if unsound.impossible:
            yield Problem(
                origin=origin,
                reason=f"{len(unsound.impossible)} entries with impossible sizes skipped",
            )
        for index, info in enumerate(infos):
            if info.is_dir() or index in unsound.overlapping or index in unsound.impossible:
                continue
            yield Entry(
                name=safe_name(_zip_name(info)),
                size=info.file_size,
                packed=info.compress_size,
                open=_opener(archive, index, info, box, aes_archive),
                single_pass=False,
                modified=from_fields(info.date_time),
            )


def _opener(
    archive: zipfile.ZipFile,
    index: int,
    info: zipfile.ZipInfo,
    box: Container,
    aes_archive: Callable[[], Any],
) -> Callable[[], BinaryIO]:
    def guard(raw: IO[bytes]) -> BinaryIO:
        return box.guard(raw, packed=info.compress_size, declared=info.file_size)

    def opener() -> BinaryIO:
        with archive_errors():
            if not info.flag_bits & _ENCRYPTED:
                return guard(archive.open(info))
            if info.compress_type == _AES_METHOD:
                aes = aes_archive()
                aes_info = aes.infolist()[index]
                return box.passwords.open_member(lambda pwd: aes.open(aes_info, pwd=pwd), guard)
            return box.passwords.open_member(lambda pwd: archive.open(info, pwd=pwd), guard)

    return opener


def _size_of(stream: IO[bytes]) -> int:
    """Bytes in a seekable stream (the zip file, or the salvaged copy of one)."""
    here = stream.tell()
    try:
        return stream.seek(0, 2)
    finally:
        stream.seek(here)


def _zip_name(info: zipfile.ZipInfo) -> str:
    """The member name; legacy (non-UTF-8-flagged) names that are valid UTF-8 are fixed."""
    name = info.filename
    if not info.flag_bits & _UTF8_NAME:
        with contextlib.suppress(UnicodeError):
            name = name.encode("cp437").decode("utf-8")
    return name
