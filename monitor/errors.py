"""One root error for credwatch; `retryable` tells callers whether trying again can help."""

from __future__ import annotations


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
