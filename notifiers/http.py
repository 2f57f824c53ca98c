"""One HTTP POST with bounded retries that honour Retry-After, shared by the HTTP notifiers.

The URL is never logged or put in an error message: Slack webhook URLs are secrets.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import aiohttp

from monitor.errors import ProviderError
from monitor.retry_after import parse_retry_after

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[object]]
Headers = Callable[[], Mapping[str, str]]

TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
ALL_5XX = frozenset({429, *range(500, 600)})


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How often and how long to retry one request before giving the message back to the caller.

    A Retry-After longer than `max_retry_after` is not slept inside the request: the caller gets
    a retryable error and its scheduler tries again later.
    """

    attempts: int = 3
    statuses: frozenset[int] = field(default=TRANSIENT_STATUSES)
    backoff: float = 1.0
    max_backoff: float = 30.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int) -> float:
        """Capped exponential backoff with jitter for attempt 1, 2, ... (no Retry-After)."""
        base: float = min(self.backoff * 2.0 ** (attempt - 1), self.max_backoff)
        return base * random.uniform(0.5, 1.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """The last answer: status, body and the headers a caller may need."""

    status: int
    body: bytes
    content_type: str
    retry_after: float | None
    request_id: str | None
    attempts: int

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def text(self, limit: int = 200) -> str:
        """The body as short printable text, for error messages (provider codes, not secrets)."""
        text = self.body[: limit * 4].decode("utf-8", "replace")
        return "".join(c if c.isprintable() else " " for c in text)[:limit].strip()


_REQUEST_ID_HEADERS = ("x-slack-req-id", "x-request-id", "request-id")


async def post(
    session: aiohttp.ClientSession,
    url: str,
    *,
    body: bytes,
    headers: Headers,
    policy: RetryPolicy,
    sleep: Sleep = asyncio.sleep,
    channel: str,
) -> Reply:
    """POST `body`; retry connection errors, timeouts and `policy.statuses`; return the last reply.

    `headers` is called before every attempt (signatures carry a fresh timestamp). Raises
    ProviderError(retryable=True) when every attempt failed without an HTTP answer, and
    ProviderError(retryable=False) when the URL is unusable.
    """
    attempts = max(policy.attempts, 1)
    for attempt in range(1, attempts + 1):
        try:
            async with session.post(
                url, data=body, headers=dict(headers()), allow_redirects=False
            ) as resp:
                raw = await resp.read()
                reply = Reply(
                    status=resp.status,
                    body=raw,
                    content_type=resp.content_type,
                    retry_after=parse_retry_after(resp.headers.get("Retry-After")),
                    request_id=next(
                        (resp.headers[h] for h in _REQUEST_ID_HEADERS if h in resp.headers), None
                    ),
                    attempts=attempt,
                )
        except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError):
            # not chained: the original's text holds the URL, which may be a secret
            raise ProviderError(f"{channel}: unusable URL", retryable=False) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = type(exc).__name__
            if attempt == attempts:
                raise ProviderError(
                    f"{channel}: no answer after {attempts} attempts ({error})", retryable=True
                ) from None
            delay = policy.delay(attempt)
            log.warning(
                "request failed, retrying",
                extra={"channel": channel, "attempt": attempt, "error": error, "delay": delay},
            )
            await sleep(delay)
            continue
        if reply.status not in policy.statuses or attempt == attempts:
            return reply
        if reply.retry_after is not None and reply.retry_after > policy.max_retry_after:
            return reply
        delay = reply.retry_after if reply.retry_after is not None else policy.delay(attempt)
        log.warning(
            "request refused, retrying",
            extra={"channel": channel, "attempt": attempt, "status": reply.status, "delay": delay},
        )
        await sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def status_error(channel: str, reply: Reply, policy: RetryPolicy) -> ProviderError:
    """The error for a non-2xx reply: retryable when its status is one the policy retries."""
    retryable = reply.status in policy.statuses
    hint = f", retry after {reply.retry_after:.0f}s" if reply.retry_after is not None else ""
    return ProviderError(
        f"{channel}: HTTP {reply.status} {reply.text(100)}{hint}".rstrip(),
        retryable=retryable,
        status=reply.status,
        request_id=reply.request_id,
    )
