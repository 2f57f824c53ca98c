"""Slack notifier: one Block Kit message per exposure, by incoming webhook or bot (chat.postMessage).

Webhook mode posts to one fixed channel and cannot thread. Bot mode posts to a configured channel
and threads follow-ups under the first message (`thread_ts`). The webhook URL and the bot token
are secrets: read from environment variables named in config, never logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

import aiohttp

from monitor.errors import ConfigError, ProviderError
from monitor.notify import Alert, AlertEvent, Delivery
from notifiers import render, settings
from notifiers.http import Reply, RetryPolicy, Sleep, post, status_error

log = logging.getLogger(__name__)

SECTION = "slack"
_KEYS = frozenset(
    {
        "webhook_url_env",
        "token_env",
        "channel",
        "api_url",
        "timeout",
        "attempts",
        "min_interval",
        "max_retry_after",
    }
)
# chat.postMessage `error` codes worth trying again later; any other `ok: false` is definite.
RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
# follow-ups important enough to show in the channel too, not only in the thread
_BROADCAST = frozenset({AlertEvent.FAILED, AlertEvent.APPROVAL})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _check_url(url: str, what: str) -> None:
    """https only (plain http only on loopback, for tests); the URL itself is never echoed."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in _LOOPBACK:
        return
    raise ConfigError(f"[{SECTION}] {what} must be an https URL")


class SlackNotifier:
    """Posts alerts to Slack. Build with `from_config`; close with `aclose`."""

    name: ClassVar[str] = "slack"

    def __init__(
        self,
        *,
        webhook_url: str | None = None,
        token: str | None = None,
        channel: str | None = None,
        api_url: str = "https://slack.com/api",
        timeout: float = 10.0,
        policy: RetryPolicy | None = None,
        min_interval: float = 1.0,
        session: aiohttp.ClientSession | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if (webhook_url is None) == (token is None):
            raise ConfigError(f"[{SECTION}] set exactly one of webhook_url_env and token_env")
        if token is not None and not channel:
            raise ConfigError(f"[{SECTION}] bot mode (token_env) needs a channel")
        if webhook_url is not None:
            _check_url(webhook_url, "the incoming webhook URL")
        _check_url(api_url, "api_url")
        self._webhook_url = webhook_url
        self._token = token
        self._channel = channel
        self._post_url = api_url.rstrip("/") + "/chat.postMessage"
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._policy = policy or RetryPolicy()
        self._min_interval = min_interval
        self._session = session
        self._owns_session = session is None
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._last_post = float("-inf")

    @property
    def mode(self) -> str:
        return "webhook" if self._webhook_url is not None else "bot"

    def __repr__(self) -> str:
        return f"SlackNotifier(mode={self.mode!r}, channel={self._channel!r})"

    @classmethod
    def from_config(cls, section: Mapping[str, Any], env: Mapping[str, str]) -> Self:
        """Build from the `[slack]` section; secrets come from the environment variables it names.

        Keys: `webhook_url_env` (incoming webhook mode) or `token_env` + `channel` (bot mode);
        optional `api_url`, `timeout` (s), `attempts`, `min_interval` (s between posts),
        `max_retry_after` (s: a longer Retry-After is left to the scheduler).
        """
        for key in section:
            if key not in _KEYS:
                raise ConfigError(f"unknown key {key!r} in section [{SECTION}]")
        return cls(
            webhook_url=settings.secret(SECTION, section, "webhook_url_env", env),
            token=settings.secret(SECTION, section, "token_env", env),
            channel=settings.text(SECTION, section, "channel"),
            api_url=settings.text(SECTION, section, "api_url") or "https://slack.com/api",
            timeout=settings.number(SECTION, section, "timeout", 10.0, minimum=0.1),
            policy=RetryPolicy(
                attempts=int(settings.number(SECTION, section, "attempts", 3, minimum=1)),
                max_retry_after=settings.number(SECTION, section, "max_retry_after", 60.0),
            ),
            min_interval=settings.number(SECTION, section, "min_interval", 1.0),
        )

    def payload(self, alert: Alert, *, thread_ref: str | None = None) -> dict[str, Any]:
        """The JSON body that `send` posts (exposed for previews and tests)."""
        body: dict[str, Any] = {
            **render.slack_message(alert),
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if self._token is not None:
            body["channel"] = self._channel
            if thread_ref:
                body["thread_ts"] = thread_ref
                if alert.event in _BROADCAST:
                    body["reply_broadcast"] = True
        return body

    async def send(self, alert: Alert, *, thread_ref: str | None = None) -> Delivery:
        """Post one alert. Bot mode returns the thread's `ts` as `Delivery.ref`."""
        if thread_ref and self._webhook_url is not None:
            log.debug("incoming webhook cannot thread, posting plain", extra={"alert": alert.id})
        data = json.dumps(self.payload(alert, thread_ref=thread_ref)).encode()
        if self._webhook_url is not None:
            await self._post(self._webhook_url, data, {}, "slack webhook")
            return Delivery(ref=None, detail="posted by incoming webhook")
        headers = {"Authorization": f"Bearer {self._token}"}
        reply = await self._post(self._post_url, data, headers, "slack chat.postMessage")
        return self._delivery(reply, thread_ref)

    async def _post(self, url: str, data: bytes, extra: dict[str, str], channel: str) -> Reply:
        headers = {"Content-Type": "application/json; charset=utf-8", **extra}
        session = self._get_session()
        async with self._lock:
            wait = self._last_post + self._min_interval - time.monotonic()
            if wait > 0:
                await self._sleep(wait)
            try:
                reply = await post(
                    session,
                    url,
                    body=data,
                    headers=lambda: headers,
                    policy=self._policy,
                    sleep=self._sleep,
                    channel=channel,
                )
            finally:
                self._last_post = time.monotonic()
        if not reply.ok:
            raise status_error(channel, reply, self._policy)
        return reply

    def _delivery(self, reply: Reply, thread_ref: str | None) -> Delivery:
        request_id = reply.request_id
        try:
            answer = json.loads(reply.body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise ProviderError(
                "slack chat.postMessage: unreadable answer",
                retryable=True,
                status=200,
                request_id=request_id,
            )
        if answer.get("ok") is not True:
            error = render.clean(str(answer.get("error") or "unknown_error"), 80)
            raise ProviderError(
                f"slack chat.postMessage: {error}",
                retryable=error in RETRYABLE_ERRORS,
                status=200,
                request_id=request_id,
            )
        warning = answer.get("warning")
        if warning:
            log.info("slack warning", extra={"warning": render.clean(str(warning), 200)})
        ts = str(answer.get("ts") or "")
        if not ts:
            raise ProviderError("slack chat.postMessage: answer without ts", status=200)
        channel = render.clean(str(answer.get("channel") or self._channel), 40)
        detail = f"ts {ts} in {channel}" + (f", thread {thread_ref}" if thread_ref else "")
        return Delivery(ref=thread_ref or ts, detail=detail)

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
            self._owns_session = True
        return self._session

    async def aclose(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None
