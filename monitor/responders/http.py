"""The HTTP client the REST responders share: one session, timeouts, bounded provider-aware retries."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp

from monitor.errors import ProviderError
from monitor.responder import StepResult
from monitor.retry_after import parse_retry_after
from monitor.types import Outcome

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """A response read in full. The body is never logged (it may echo a password)."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    request_id: str | None

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


# Given a reply and the attempt number (0-based), how long to wait before retrying; None = don't.
RetryRule = Callable[[Reply, int], float | None]


def backoff(attempt: int, base: float, cap: float) -> float:
    """Capped exponential backoff with up to 10 % jitter."""
    delay = min(cap, base * (2**attempt))
    return float(delay + random.uniform(0, delay / 10))


class HttpClient:
    """One `aiohttp.ClientSession` per responder; retries 429/5xx/connection errors/timeouts.

    Non-retryable answers (2xx, 4xx other than 429) are returned for the caller to interpret.
    Exhausted retries raise `ProviderError(retryable=True)`. A wait longer than `max_delay`
    raises at once (retryable) so the scheduler can defer the work instead of sleeping.
    """

    def __init__(
        self,
        *,
        provider: str,
        timeout: float,
        max_retries: int,
        backoff_base: float = 0.5,
        max_delay: float = 60.0,
        retry_rule: RetryRule | None = None,
        request_id_header: str | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.provider = provider
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_retries = max_retries
        self._backoff_base = backoff_base
        self._max_delay = max_delay
        self._retry_rule = retry_rule
        self._request_id_header = request_id_header
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None

    def _session_or_new(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    def default_delay(self, reply: Reply, attempt: int) -> float | None:
        """Retry-After when given, else capped exponential backoff; None for non-retry statuses."""
        if reply.status not in RETRY_STATUSES:
            return None
        after = parse_retry_after(reply.headers.get("Retry-After"))
        if after is not None:
            return after
        return backoff(attempt, self._backoff_base, self._max_delay)

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        raw_body: bytes | None = None,
    ) -> Reply:
        session = self._session_or_new()
        rule = self._retry_rule or self.default_delay
        attempt = 0
        while True:
            try:
                async with session.request(
                    method,
                    url,
                    headers=headers,
                    params=params,
                    json=json_body,
                    data=raw_body if raw_body is not None else form,
                ) as resp:
                    body = await resp.read()
                    rid = (
                        resp.headers.get(self._request_id_header)
                        if self._request_id_header
                        else None
                    )
                    reply = Reply(
                        status=resp.status, headers=resp.headers, body=body, request_id=rid
                    )
            except (aiohttp.ClientError, TimeoutError) as exc:
                kind = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
                if attempt >= self._max_retries:
                    raise ProviderError(
                        f"{self.provider}: {method} failed after {attempt + 1} attempts ({kind})",
                        retryable=True,
                    ) from None
                delay = backoff(attempt, self._backoff_base, self._max_delay)
                log.warning(
                    "provider call failed, retrying",
                    extra={
                        "provider": self.provider,
                        "method": method,
                        "error": kind,
                        "attempt": attempt + 1,
                        "delay": round(delay, 3),
                    },
                )
            else:
                wait = rule(reply, attempt)
                if wait is None:
                    return reply
                if attempt >= self._max_retries:
                    raise ProviderError(
                        f"{self.provider}: {method} answered {reply.status} "
                        f"after {attempt + 1} attempts",
                        retryable=True,
                        status=reply.status,
                        request_id=reply.request_id,
                    )
                delay = wait
                log.warning(
                    "provider throttled or unavailable, retrying",
                    extra={
                        "provider": self.provider,
                        "method": method,
                        "status": reply.status,
                        "attempt": attempt + 1,
                        "delay": round(delay, 3),
                        "request_id": reply.request_id,
                    },
                )
            if delay > self._max_delay:
                raise ProviderError(
                    f"{self.provider}: asked to wait {delay:.0f}s (more than {self._max_delay:.0f}s)",
                    retryable=True,
                )
            await self._sleep(delay)
            attempt += 1

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


def error_detail(reply: Reply) -> str:
    """A short, secret-free description of an error reply (status and provider error code)."""
    data = reply.json()
    code: Any = None
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            code = err.get("code") or err.get("status")
            errors = err.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                code = errors[0].get("reason") or code
        elif isinstance(err, str):
            code = err
        code = code or data.get("errorCode") or data.get("errorMessage")
    text = f"HTTP {reply.status}"
    if isinstance(code, str | int) and str(code):
        text += f" {str(code)[:80]}"
    return text


def step_from_reply(step: str, reply: Reply, *, done_detail: str) -> StepResult:
    """2xx → done; 404 → not_found; any other answer → failed, not retryable."""
    if reply.ok:
        return StepResult(
            step=step, outcome=Outcome.DONE, detail=done_detail, request_id=reply.request_id
        )
    if reply.status == 404:
        return StepResult(
            step=step,
            outcome=Outcome.NOT_FOUND,
            detail="user not found",
            request_id=reply.request_id,
        )
    return StepResult(
        step=step,
        outcome=Outcome.FAILED,
        retryable=False,
        detail=error_detail(reply),
        request_id=reply.request_id,
    )


def step_from_error(step: str, exc: ProviderError) -> StepResult:
    return StepResult(
        step=step,
        outcome=Outcome.FAILED,
        retryable=exc.retryable,
        detail=str(exc),
        request_id=exc.request_id,
    )


def raise_for_lookup(reply: Reply) -> None:
    """find_user: any answer other than 2xx/404 is an unknown outcome → ProviderError."""
    if reply.ok or reply.status == 404:
        return
    raise ProviderError(
        f"user lookup answered {error_detail(reply)}",
        retryable=False,
        status=reply.status,
        request_id=reply.request_id,
    )


class BearerToken:
    """Caches an OAuth access token until shortly before it expires."""

    def __init__(self, fetch: Callable[[], Awaitable[tuple[str, float]]]) -> None:
        self._fetch = fetch
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> str:
        async with self._lock:
            if self._token is None or time.monotonic() >= self._expires:
                token, lifetime = await self._fetch()
                self._token = token
                self._expires = time.monotonic() + max(0.0, lifetime - 60.0)
            return self._token

    def forget(self) -> None:
        self._token = None


def parse_token_reply(reply: Reply, provider: str) -> tuple[str, float]:
    """`{"access_token", "expires_in"}` from an OAuth token endpoint, or ProviderError."""
    data = reply.json()
    if not reply.ok or not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
        raise ProviderError(
            f"{provider}: token request answered {error_detail(reply)}",
            retryable=False,
            status=reply.status,
            request_id=reply.request_id,
        )
    expires = data.get("expires_in", 3600)
    try:
        lifetime = float(expires)
    except (TypeError, ValueError):
        lifetime = 3600.0
    return data["access_token"], lifetime


def parse_iso(value: Any) -> datetime | None:
    """An ISO-8601 timestamp (with `Z`) as a tz-aware datetime; None when absent or garbled."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
