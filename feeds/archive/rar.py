"""List and open rar members: stored ones directly, compressed or encrypted ones via unrar."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, BinaryIO

import rarfile

from feeds.archive.dates import from_fields
from feeds.archive.entries import Container, Entries, Entry
from feeds.archive.errors import archive_errors, reason_of
from feeds.archive.names import safe_name
from monitor.types import Problem


def rar_entries(path: Path, box: Container) -> Entries:
    """The files of the rar at `path`; one `Problem` for those no backend can decompress."""
    origin = box.origin
    try:
        archive = rarfile.RarFile(str(path))
    except Exception as exc:
        yield Problem(origin=origin, reason=f"corrupt rar ({reason_of(exc)})")
        return
    if archive.needs_password() and not archive.infolist():
        for password in box.passwords.candidates():  # encrypted headers: the listing needs it
            with contextlib.suppress(Exception):
                archive.setpassword(password)
            if archive.infolist():
                box.passwords.remember(password)
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
            yield Entry(
                name=safe_name(info.filename or ""),
                size=info.file_size,
                packed=info.compress_size,
                open=_opener(archive, info, box),
                single_pass=False,
                modified=from_fields(info.date_time) if info.date_time else None,
            )
        if skipped:
            yield Problem(origin=origin, reason="rar backend missing")


def _opener(archive: rarfile.RarFile, info: Any, box: Container) -> Callable[[], BinaryIO]:
    def guard(raw: IO[bytes]) -> BinaryIO:
        return box.guard(raw, packed=info.compress_size, declared=info.file_size)

    def opener() -> BinaryIO:
        with archive_errors():
            if not info.needs_password():
                return guard(archive.open(info))
            return box.passwords.open_member(
                lambda pwd: archive.open(info, pwd=pwd.decode("utf-8")), guard
            )

    return opener
