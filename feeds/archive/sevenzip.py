"""List 7z members in one streaming pass, trying no password, then each configured one."""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path
from typing import IO, cast

import py7zr
import py7zr.exceptions

from feeds.archive.dates import from_timestamp
from feeds.archive.entries import Container, Entries, Entry, Once
from feeds.archive.errors import ArchiveError, reason_of
from feeds.archive.member import HEAD_SIZE
from feeds.archive.names import safe_name
from feeds.archive.sevenzip_plan import folder_plan
from feeds.archive.sevenzip_pump import SevenZipPump
from feeds.archive.streams import put_back
from feeds.textio import read_head
from monitor.types import Problem


def sevenzip_entries(path: Path, box: Container) -> Entries:
    """The files of the 7z at `path`, each readable once, in order.

    An archive whose header is encrypted is opened with the first password that reads it; one
    whose data only is encrypted with the first password its first member decodes with.
    """
    origin = box.origin
    candidates: list[str | None] = [None, *box.passwords.candidates()]
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
                yield Problem(origin=origin, reason=f"corrupt 7z ({reason_of(exc)})")
                return
            stack.callback(archive.close)
            if password is None and archive.needs_password():
                encrypted = True
                continue
            plan = folder_plan(archive, box.limits, origin)
            if plan.skip and len(plan.skip) == sum(1 for f in archive.files if not f.emptystream):
                yield from plan.problems  # nothing else to read
                return
            pump = SevenZipPump(archive, skip=plan.skip)
            stack.callback(pump.cancel)
            prefix = b""
            try:
                first = pump.next_member()
                if first is not None and password is not None:
                    prefix = read_head(cast(IO[bytes], first[1]), HEAD_SIZE)
            except ArchiveError as exc:
                if password is not None:
                    continue  # wrong password: the first member does not decode
                yield Problem(origin=origin, reason=exc.reason)
                return
            if password is not None:
                box.passwords.remember(password)
            yield from plan.problems
            files = {str(f.id): f for f in archive.files}
            current = first
            while current is not None:
                key, reader = current
                info = files[key]
                stream = box.guard(
                    put_back(prefix, cast(IO[bytes], reader)), declared=info.uncompressed
                )
                prefix = b""
                if not info.is_directory:
                    yield Entry(
                        name=safe_name(info.filename),
                        size=info.uncompressed,
                        packed=None,
                        open=Once(stream),
                        single_pass=True,
                        modified=_written(info),
                    )
                try:
                    reader.drain()
                    current = pump.next_member()
                except ArchiveError as exc:
                    yield Problem(origin=f"{origin}!{safe_name(info.filename)}", reason=exc.reason)
                    return
            return
    if encrypted:
        yield Problem(origin=origin, reason="encrypted, no configured password fits")
    else:
        yield Problem(origin=origin, reason="corrupt 7z")


def _looks_encrypted(exc: BaseException) -> bool:
    return "password" in str(exc).lower()


def _written(info: object) -> datetime | None:
    """A 7z member's last-write time (a Windows FILETIME), when the archive stores one."""
    stamp = getattr(info, "lastwritetime", None)
    totimestamp = getattr(stamp, "totimestamp", None)
    return from_timestamp(totimestamp()) if callable(totimestamp) else None
