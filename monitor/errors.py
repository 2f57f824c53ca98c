"""One root error for credwatch; `retryable` tells callers whether trying again can help."""

from __future__ import annotations

import errno


class CredwatchError(Exception):
    """Root of every error credwatch raises on purpose.

    Messages never contain a leaked secret: callers pass context (file, key, status), not values.
    """

    retryable: bool = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable


class ConfigError(CredwatchError):
    """The configuration file or environment is missing, malformed or inconsistent."""


class StoreError(CredwatchError):
    """The database could not be reached or migrated."""

    retryable = True


class FeedError(CredwatchError):
    """A source could not be read (corrupt archive, unsupported format, limit exceeded)."""


class ProviderError(CredwatchError):
    """A remote API (identity provider, notifier, exposure API) answered with an error.

    `status` is the HTTP (or protocol) status when known; `request_id` the provider's id.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, retryable=retryable)
        self.status = status
        self.request_id = request_id


# The machine, not the input: out of disk, quota, memory or file handles, or a read-only
# file system. A reader that meets one stops (its source stays unfinished and is read again
# later) instead of reporting the input unreadable.
_RESOURCE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.ENOMEM, errno.EMFILE, errno.ENFILE, errno.EROFS}
)


def resource_fault(exc: BaseException) -> bool:
    """Is `exc` (or the error it was raised from) a shortage of the machine's resources?"""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return False
        if isinstance(seen, MemoryError):
            return True
        if isinstance(seen, OSError) and seen.errno in _RESOURCE_ERRNOS:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def failure_text(exc: BaseException) -> str:
    """What a failed source, unit or lookup unit records of why: the error's type and message,
    cut to what the store keeps."""
    return f"{type(exc).__name__}: {exc}"[:1000]
