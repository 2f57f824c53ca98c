"""The one retry policy for every remote call (HTTP, LDAP, SMTP): bounded, capped, jittered, tenacity.

An attempt that may succeed later raises `TryAgain` (with the server's wait when it named one);
`retry_call` runs attempts under a `RetryPolicy` and, when it gives up, raises a retryable
`ProviderError`. A wait the server asks for that is longer than `max_wait` is not slept: it is
raised at once as `RetryLater`, so the caller's scheduler defers the work instead of blocking.
Messages carry only the caller's label, a status or an exception type — never a URL or a body.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NoReturn, TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from monitor.errors import ProviderError

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How often and how long one call is retried before the caller gets a retryable error.

    `attempts` counts every try (1 = no retry). Without a server-given wait, attempt n waits
    `min(cap, base * 2**(n-1))`, less a random share of up to `jitter` of it.
    """

    attempts: int = 3
    base: float = 0.5
    cap: float = 30.0
    jitter: float = 0.5
    max_wait: float = 60.0

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt `attempt` (1, 2, ...) when the server named none."""
        delay: float = min(self.cap, self.base * 2.0 ** max(attempt - 1, 0))
        if self.jitter:
            delay *= 1.0 - min(self.jitter, 1.0) * random.random()
        return delay


class TryAgain(Exception):
    """Raised by an attempt whose outcome may change: `reason` is short and secret-free."""

    def __init__(
        self,
        reason: str,
        *,
        after: float | None = None,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = after
        self.status = status
        self.request_id = request_id


class RetryLater(ProviderError):
    """The server asked for a wait longer than the policy sleeps: try again after `after` s."""

    def __init__(
        self,
        message: str,
        *,
        after: float,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, retryable=True, status=status, request_id=request_id)
        self.after = after


async def retry_call(
    attempt: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    what: str,
    sleep: Sleep = asyncio.sleep,
) -> T:
    """`attempt()`'s result, retrying on `TryAgain` as `policy` says; other errors pass through."""

    def wait(state: RetryCallState) -> float:
        exc = _try_again(state)
        if exc is not None and exc.after is not None:
            return exc.after
        return policy.backoff(state.attempt_number)

    def stop(state: RetryCallState) -> bool:
        return state.attempt_number >= policy.attempts or state.upcoming_sleep > policy.max_wait

    def before_sleep(state: RetryCallState) -> None:
        exc = _try_again(state)
        log.warning(
            "remote call failed, retrying",
            extra={
                "call": what,
                "attempt": state.attempt_number,
                "reason": exc.reason if exc else "",
                "status": exc.status if exc else None,
                "request_id": exc.request_id if exc else None,
                "delay": round(state.upcoming_sleep, 3),
            },
        )

    def give_up(state: RetryCallState) -> NoReturn:
        exc = _try_again(state)
        assert exc is not None  # only TryAgain is retried
        if state.upcoming_sleep > policy.max_wait:
            raise RetryLater(
                f"{what}: asked to wait {state.upcoming_sleep:.0f}s, more than "
                f"{policy.max_wait:.0f}s ({exc.reason})",
                after=state.upcoming_sleep,
                status=exc.status,
                request_id=exc.request_id,
            )
        raise ProviderError(
            f"{what}: gave up after {state.attempt_number} attempts ({exc.reason})",
            retryable=True,
            status=exc.status,
            request_id=exc.request_id,
        )

    retrying: AsyncRetrying = AsyncRetrying(
        stop=stop,
        wait=wait,
        retry=retry_if_exception_type(TryAgain),
        sleep=sleep,
        before_sleep=before_sleep,
        retry_error_callback=give_up,
    )

    async def call() -> T:  # a coroutine function, whatever `attempt` is (a lambda, a partial)
        return await attempt()

    result: T = await retrying(call)
    return result


def _try_again(state: RetryCallState) -> TryAgain | None:
    exc = state.outcome.exception() if state.outcome is not None else None
    return exc if isinstance(exc, TryAgain) else None


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def parse_reset_epoch(value: str | None, *, date: str | None = None) -> float | None:
    """Seconds until a reset header's epoch time (Okta `X-Rate-Limit-Reset`), measured against the
    response's `Date` when it has one (the server's clock, not ours); None if unusable."""
    if value is None or not value.strip().isdigit():
        return None
    now = datetime.now(UTC)
    if date:
        with contextlib.suppress(TypeError, ValueError, IndexError):
            now = parsedate_to_datetime(date)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
    return max(0.0, int(value.strip()) - now.timestamp())
