"""Archive errors, and the one mapping from library exceptions to constant reasons safe to log."""

from __future__ import annotations

import contextlib
import gzip
import lzma
import sys
import tarfile
import zipfile
import zlib
from collections.abc import Iterator

from monitor.errors import FeedError


class ArchiveError(FeedError):
    """A member or archive could not be read; `reason` is a constant phrase, safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LimitExceeded(ArchiveError):
    """A size, ratio or count limit was exceeded (a probable decompression bomb)."""


class BudgetExceeded(LimitExceeded):
    """A per-top-level-archive limit: the rest of that archive is skipped."""


def reason_of(exc: BaseException) -> str:
    """A constant phrase for what went wrong; never the library's message (it may quote data)."""
    if isinstance(exc, ArchiveError):
        return exc.reason
    lib = _library_reason(exc)
    if lib is not None:
        return lib
    if isinstance(exc, zipfile.BadZipFile):
        return "bad CRC" if "CRC" in str(exc) else "corrupt zip member"
    if isinstance(exc, zlib.error | lzma.LZMAError | gzip.BadGzipFile):
        return "bad compressed data"
    if isinstance(exc, EOFError):
        return "truncated data"
    if isinstance(exc, tarfile.ReadError):
        return "truncated data" if "unexpected end" in str(exc) else "corrupt tar"
    if isinstance(exc, RuntimeError) and "password" in str(exc).lower():
        return "encrypted, no configured password fits"
    if isinstance(exc, NotImplementedError):
        return "unsupported compression method"
    if isinstance(exc, OSError) and "invalid data stream" in str(exc).lower():
        return "bad compressed data"
    return f"unreadable ({type(exc).__name__})"


def _library_reason(exc: BaseException) -> str | None:
    """The reason for an exception of the 7z or rar library; they are imported only once an
    archive of theirs is met, and only then can their exceptions occur."""
    py7zr = sys.modules.get("py7zr.exceptions")
    if py7zr is not None:
        if isinstance(exc, py7zr.CrcError):
            return "bad CRC"
        if isinstance(exc, py7zr.UnsupportedCompressionMethodError):
            return "unsupported compression method"
    rarfile = sys.modules.get("rarfile")
    if rarfile is not None:
        if isinstance(exc, rarfile.RarCRCError):
            return "bad CRC"
        if isinstance(exc, rarfile.RarCannotExec):
            return "rar backend missing"
    return None


def as_archive_error(exc: BaseException) -> ArchiveError:
    """`exc` itself when it is an `ArchiveError`, else one carrying its reason."""
    if isinstance(exc, ArchiveError):
        return exc
    return ArchiveError(reason_of(exc))


@contextlib.contextmanager
def archive_errors() -> Iterator[None]:
    """Re-raise any failure inside the block as an `ArchiveError` (with a constant reason)."""
    try:
        yield
    except ArchiveError:
        raise
    except Exception as exc:
        raise as_archive_error(exc) from exc
