"""What the REST responders share: their config keys, one HTTP client with the retry policy and a
cached OAuth token refreshed once on a 401, reply → step result, and timestamps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import Field

from monitor.errors import ProviderError
from monitor.http import REQUEST_ID_HEADERS, TRANSIENT, HttpClient, Reply, RetryOn
from monitor.responder import StepResult
from monitor.retry import RetryPolicy, Sleep
from monitor.settings import Section, load_section
from monitor.types import Outcome


class RestSection(Section):
    """The keys every REST responder section has (each responder's model adds its own)."""

    timeout: float = Field(default=15.0, ge=0.001, description="Seconds per request.")
    max_retries: int = Field(default=3, ge=0, description="Retries of a failed request.")
    backoff_base: float = Field(
        default=0.5, ge=0, description="First retry delay, in seconds (doubles each time)."
    )
    max_delay: float = Field(
        default=60.0, ge=0, description="Longest delay between retries, in seconds."
    )


def rest_policy(*, max_retries: int, backoff_base: float, max_delay: float) -> RetryPolicy:
    """`max_retries` retries after the first try; backoff and server-asked waits capped at
    `max_delay` (a longer wait is handed back to the scheduler)."""
    return RetryPolicy(
        attempts=max_retries + 1, base=backoff_base, cap=max_delay, max_wait=max_delay
    )


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


def raise_for_lookup(reply: Reply, what: str = "user lookup") -> None:
    """find_user: any answer other than 2xx/404 is an unknown outcome → ProviderError."""
    if reply.ok or reply.status == 404:
        return
    raise ProviderError(
        f"{what} answered {error_detail(reply)}",
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


async def with_fresh_token(token: BearerToken, send: Callable[[], Awaitable[Reply]]) -> Reply:
    """A 401 after a cached token (revoked, rotated, expired early): forget it, fetch a new one
    and try once more. A second 401 is the provider's answer."""
    reply = await send()
    if reply.status == 401:
        token.forget()
        reply = await send()
        if reply.status == 401:
            token.forget()
    return reply


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


TokenFetch = Callable[[], Awaitable[tuple[str, float]]]


class RestClient:
    """A REST responder's HTTP plumbing: one client with the section's retry policy, fixed
    headers, and (with `token`) a cached OAuth bearer token that a 401 refreshes once."""

    def __init__(
        self,
        provider: str,
        section: RestSection,
        *,
        sleep: Sleep,
        token: TokenFetch | None = None,
        headers: Mapping[str, str] | None = None,
        retry_on: RetryOn = TRANSIENT,
        reset_header: str | None = None,
        request_id_headers: tuple[str, ...] = REQUEST_ID_HEADERS,
    ) -> None:
        self.provider = provider
        self.http = HttpClient(
            provider=provider,
            timeout=section.timeout,
            policy=rest_policy(
                max_retries=section.max_retries,
                backoff_base=section.backoff_base,
                max_delay=section.max_delay,
            ),
            retry_on=retry_on,
            reset_header=reset_header,
            request_id_headers=request_id_headers,
            sleep=sleep,
        )
        self.token = BearerToken(token) if token is not None else None
        self._headers = {"Accept": "application/json", **(headers or {})}

    async def token_from(self, url: str, form: Mapping[str, str]) -> tuple[str, float]:
        """POST an OAuth token request (form-encoded) and read the token and its lifetime."""
        reply = await self.http.request("POST", url, form=form)
        return parse_token_reply(reply, self.provider)

    async def send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> Reply:
        """One call with retries; a 401 after a cached token fetches a new one and tries once more."""
        token = self.token

        async def once() -> Reply:
            headers = dict(self._headers)
            if token is not None:
                headers["Authorization"] = f"Bearer {await token.get()}"
            return await self.http.request(
                method, url, headers=headers, params=params, json_body=json_body
            )

        return await (once() if token is None else with_fresh_token(token, once))

    async def lookup(
        self, url: str, params: Mapping[str, str] | None = None, *, what: str = "user lookup"
    ) -> Any:
        """A read: the JSON body, None on 404, ProviderError on any other answer."""
        reply = await self.send("GET", url, params=params)
        raise_for_lookup(reply, what)
        return reply.json() if reply.ok else None

    async def step(
        self,
        step: str,
        method: str,
        url: str,
        *,
        done: str,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> StepResult:
        """A containment call: 2xx done, 404 not found, other answers and errors failed."""
        try:
            reply = await self.send(method, url, params=params, json_body=json_body)
        except ProviderError as exc:
            return step_from_error(step, exc)
        return step_from_reply(step, reply, done_detail=done)

    async def aclose(self) -> None:
        await self.http.aclose()


class FromSection:
    """`from_config` for a responder built from its validated section: `cls(section, env)`."""

    section_model: ClassVar[type[RestSection]]
    section_name: ClassVar[str]

    if TYPE_CHECKING:  # each responder defines it

        def __init__(
            self, section: Any, env: Mapping[str, str], *, sleep: Sleep = asyncio.sleep
        ) -> None: ...

    @classmethod
    def from_config(
        cls, section: Mapping[str, Any], env: Mapping[str, str], *, sleep: Sleep = asyncio.sleep
    ) -> Self:
        return cls(
            load_section(cls.section_model, section, section=cls.section_name), env, sleep=sleep
        )
