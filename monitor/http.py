"""The one HTTP client for every outbound call: a session per plug-in, timeouts, the shared retries.

`HttpClient.request` retries connection errors, timeouts and the statuses its `retry_on` rule
accepts (429 and 5xx by default), honouring `Retry-After` (seconds or HTTP date) and the
provider's reset header when it has one, else the policy's backoff (monitor.retry). Any other
answer is returned for the caller to read. URLs (Slack webhook URLs are secrets), bodies and
headers never appear in logs or error texts; the provider's request id is captured.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from monitor.errors import ProviderError
from monitor.retry import (
    RetryPolicy,
    Sleep,
    TryAgain,
    parse_reset_epoch,
    parse_retry_after,
    retry_call,
)

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
ALL_5XX = frozenset({429, *range(500, 600)})
REQUEST_ID_HEADERS = ("x-request-id", "request-id")
RESET_MARGIN = 0.1  # s past a rate-limit window's end, so the retry lands in the next one

Headers = Mapping[str, str] | Callable[[], Mapping[str, str]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """A response read in full. The body is never logged (it may echo a password)."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    content_type: str
    request_id: str | None
    attempts: int

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The JSON body, or None when it is empty or not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def text(self, limit: int = 200) -> str:
        """The body as short printable text, for error messages (provider codes, not secrets)."""
        text = self.body[: limit * 4].decode("utf-8", "replace")
        return "".join(c if c.isprintable() else " " for c in text)[:limit].strip()


RetryOn = Callable[[Reply], bool]


def statuses(retryable: frozenset[int]) -> RetryOn:
    """A `retry_on` rule: retry exactly these statuses."""
    return lambda reply: reply.status in retryable


TRANSIENT: RetryOn = statuses(TRANSIENT_STATUSES)


class HttpClient:
    """One `aiohttp.ClientSession` for one plug-in, with the shared retry policy.

    `reset_header` names the provider's rate-limit reset header (epoch seconds, read against the
    response `Date`) used when a 429 has no Retry-After. `request_id_headers` are tried in order.
    """

    def __init__(
        self,
        *,
        provider: str,
        timeout: float,
        policy: RetryPolicy,
        retry_on: RetryOn = TRANSIENT,
        reset_header: str | None = None,
        request_id_headers: tuple[str, ...] = REQUEST_ID_HEADERS,
        sleep: Sleep = asyncio.sleep,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.provider = provider
        self.policy = policy
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._retry_on = retry_on
        self._reset_header = reset_header
        self._request_id_headers = request_id_headers
        self._sleep = sleep
        self._session = session
        self._owns_session = session is None

    def _session_or_new(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
            self._owns_session = True
        return self._session

    def server_wait(self, reply: Reply) -> float | None:
        """The wait the server asked for: Retry-After, else the reset header on a 429."""
        after = parse_retry_after(reply.headers.get("Retry-After"))
        if after is None and self._reset_header and reply.status == 429:
            reset = parse_reset_epoch(
                reply.headers.get(self._reset_header), date=reply.headers.get("Date")
            )
            if reset is not None:
                after = reset + RESET_MARGIN
        return after

    async def request(
        self,
        method: str,
        url: str | URL,
        *,
        headers: Headers | None = None,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        raw_body: bytes | None = None,
        what: str | None = None,
        before: Callable[[], Any] | None = None,
    ) -> Reply:
        """One call with retries. `headers` may be a function, called before every attempt
        (signatures carry a fresh timestamp); `before` is awaited before every attempt (a rate
        limiter). `what` labels logs and errors (default: provider and method)."""
        label = what or f"{self.provider} {method}"
        session = self._session_or_new()
        tries = 0

        async def attempt() -> Reply:
            nonlocal tries
            tries += 1
            if before is not None:
                await before()
            sent = headers() if callable(headers) else headers
            try:
                async with session.request(
                    method,
                    url,
                    headers=dict(sent) if sent is not None else None,
                    params=params,
                    json=json_body,
                    data=raw_body if raw_body is not None else form,
                    allow_redirects=False,
                ) as resp:
                    body = await resp.read()
                    reply = Reply(
                        status=resp.status,
                        headers=resp.headers,
                        body=body,
                        content_type=resp.content_type,
                        request_id=next(
                            (
                                resp.headers[h]
                                for h in self._request_id_headers
                                if h in resp.headers
                            ),
                            None,
                        ),
                        attempts=tries,
                    )
            except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError):
                # not chained: the original's text holds the URL, which may be a secret
                raise ProviderError(f"{label}: unusable URL", retryable=False) from None
            except TimeoutError:
                raise TryAgain("timeout") from None
            except aiohttp.ClientError as exc:
                raise TryAgain(type(exc).__name__) from None
            if self._retry_on(reply):
                raise TryAgain(
                    f"HTTP {reply.status}",
                    after=self.server_wait(reply),
                    status=reply.status,
                    request_id=reply.request_id,
                )
            return reply

        return await retry_call(attempt, policy=self.policy, what=label, sleep=self._sleep)

    async def aclose(self) -> None:
        if self._session is not None and self._owns_session and not self._session.closed:
            await self._session.close()
        self._session = None
