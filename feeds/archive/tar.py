"""List tar members in one streaming pass: regular files only, links never followed."""

from __future__ import annotations

import tarfile
from typing import IO

from feeds.archive.dates import from_timestamp
from feeds.archive.entries import Container, Entries, Entry, Once
from feeds.archive.errors import BudgetExceeded, reason_of
from feeds.archive.names import safe_name
from monitor.types import Problem


def tar_entries(source: IO[bytes], box: Container) -> Entries:
    """The regular files of the tar read from `source`; each can be read once, in order."""
    try:
        archive = tarfile.open(fileobj=source, mode="r|")  # noqa: SIM115 - closed below
    except Exception as exc:
        yield Problem(origin=box.origin, reason=_tar_reason(exc))
        return
    with archive:
        try:
            for info in archive:
                if not info.isreg():
                    continue
                member = archive.extractfile(info)
                if member is None:
                    continue
                yield Entry(
                    name=safe_name(info.name),
                    size=info.size,
                    packed=None,
                    open=Once(box.guard(member, declared=info.size)),
                    single_pass=True,
                    modified=from_timestamp(info.mtime),
                )
        except BudgetExceeded:
            raise
        except Exception as exc:
            yield Problem(origin=box.origin, reason=_tar_reason(exc))


def _tar_reason(exc: BaseException) -> str:
    reason = reason_of(exc)
    if reason in ("truncated data", "bad compressed data") or isinstance(exc, EOFError):
        return "truncated archive"
    return reason
