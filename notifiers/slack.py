"""Slack notifier: one Block Kit message per exposure, by incoming webhook or bot (chat.postMessage).

Webhook mode posts to one fixed channel and cannot thread. Bot mode posts to a configured channel
and threads follow-ups under the first message (`thread_ts`). The webhook URL and the bot token
are secrets: read from environment variables named in config, never logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

import aiohttp
from pydantic import Field

from monitor.decisions import Decider
from monitor.errors import ProviderError
from monitor.http import ALL_5XX, HttpClient, Reply, statuses
from monitor.notify import Alert, AlertEvent, Delivery
from monitor.retry import RetryPolicy, Sleep
from monitor.settings import Section, SettingError, load_section, secret_from_env
from notifiers import render
from notifiers.slack_actions import SlackDecisions
from notifiers.slack_buttons import with_decision
from notifiers.slack_digest import slack_digest

log = logging.getLogger(__name__)

SECTION = "notifiers.slack"
# chat.postMessage `error` codes worth trying again later; any other `ok: false` is definite.
RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
# follow-ups important enough to show in the channel too, not only in the thread
_BROADCAST = frozenset({AlertEvent.FAILED, AlertEvent.APPROVAL})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
# an incoming webhook answers errors with a short code as its whole body ("invalid_payload")
_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{0,79}")


class SlackSection(Section):
    """`[notifiers.slack]`: incoming webhook (`webhook_url_env`) or bot (`token_env` + `channel`)."""

    webhook_url_env: str | None = Field(
        default=None, description="Variable holding an incoming-webhook URL (webhook mode)."
    )
    token_env: str | None = Field(
        default=None, description="Variable holding a bot token (bot mode, threads follow-ups)."
    )
    channel: str | None = Field(default=None, min_length=1, description="Channel id in bot mode.")
    api_url: str = Field(default="https://slack.com/api", description="Slack Web API URL.")
    timeout: float = Field(default=10.0, ge=0.1, description="Seconds per request.")
    attempts: int = Field(default=3, ge=1, description="Tries per message.")
    min_interval: float = Field(
        default=1.0, ge=0, description="Seconds between two posts (Slack's rate limit)."
    )
    max_retry_after: float = Field(
        default=60.0, ge=0, description="Longest Retry-After honoured, in seconds."
    )
    app_token_env: str | None = Field(
        default=None,
        description="Variable holding an app-level token (xapp-…): Approve / Reject buttons "
        "on approval requests, heard over Socket Mode by `credwatch serve` (bot mode).",
    )
    deciders: list[str] = Field(
        default_factory=list,
        description="Slack user ids (U…) allowed to approve or reject from Slack.",
    )
    decider_group: str | None = Field(
        default=None,
        min_length=1,
        description="A Slack user group id (S…) whose members may approve or reject.",
    )


def _decisions(s: SlackSection, token: str | None, env: Mapping[str, str]) -> SlackDecisions | None:
    return SlackDecisions.configure(
        section=SECTION,
        app_token_env=s.app_token_env,
        deciders=s.deciders,
        decider_group=s.decider_group,
        token=token,
        api_url=s.api_url,
        env=env,
    )


def _check_url(url: str, what: str) -> None:
    """https only (plain http only on loopback, for tests); the URL itself is never echoed."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in _LOOPBACK:
        return
    raise SettingError(SECTION, "", f"{what} must be an https URL")


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
        decisions: SlackDecisions | None = None,
    ) -> None:
        if (webhook_url is None) == (token is None):
            raise SettingError(SECTION, "", "set exactly one of webhook_url_env and token_env")
        if token is not None and not channel:
            raise SettingError(SECTION, "", "bot mode (token_env) needs a channel")
        if webhook_url is not None:
            _check_url(webhook_url, "the incoming webhook URL")
        _check_url(api_url, "api_url")
        self._webhook_url = webhook_url
        self._token = token
        self._channel = channel
        self._post_url = api_url.rstrip("/") + "/chat.postMessage"
        self._http = HttpClient(
            provider="slack",
            timeout=timeout,
            policy=policy or RetryPolicy(base=1.0),
            retry_on=statuses(ALL_5XX),
            request_id_headers=("x-slack-req-id",),
            sleep=sleep,
            session=session,
        )
        self._min_interval = min_interval
        self._sleep = sleep
        if decisions is not None and token is None:
            raise SettingError(SECTION, "app_token_env", "buttons need bot mode (token_env)")
        self._decisions = decisions
        self._lock = asyncio.Lock()
        self._last_post = float("-inf")

    @property
    def mode(self) -> str:
        return "webhook" if self._webhook_url is not None else "bot"

    def __repr__(self) -> str:
        return f"SlackNotifier(mode={self.mode!r}, channel={self._channel!r})"

    @classmethod
    def from_config(cls, section: Mapping[str, Any], env: Mapping[str, str]) -> Self:
        """Build from `[notifiers.slack]`; secrets come from the environment variables it names.

        Keys: `webhook_url_env` (incoming webhook mode) or `token_env` + `channel` (bot mode);
        optional `api_url`, `timeout` (s), `attempts`, `min_interval` (s between posts),
        `max_retry_after` (s: a longer Retry-After is left to the scheduler).
        """
        s = load_section(SlackSection, section, section=SECTION)
        if (s.webhook_url_env is None) == (s.token_env is None):
            raise SettingError(SECTION, "", "set exactly one of webhook_url_env and token_env")
        webhook_url = token = None
        if s.webhook_url_env is not None:
            webhook_url = secret_from_env(SECTION, "webhook_url_env", s.webhook_url_env, env)
        if s.token_env is not None:
            token = secret_from_env(SECTION, "token_env", s.token_env, env)
        decisions = _decisions(s, token, env)
        return cls(
            webhook_url=webhook_url,
            token=token,
            channel=s.channel,
            api_url=s.api_url,
            timeout=s.timeout,
            policy=RetryPolicy(attempts=s.attempts, base=1.0, max_wait=s.max_retry_after),
            min_interval=s.min_interval,
            decisions=decisions,
        )

    @property
    def interactive(self) -> bool:
        """Approval requests carry buttons, and `listen` hears their clicks."""
        return self._decisions is not None

    async def listen(self, decider: Decider) -> None:
        """Hear Approve / Reject clicks until cancelled (Socket Mode)."""
        if self._decisions is not None:
            await self._decisions.listen(decider)

    def payload(self, alert: Alert, *, thread_ref: str | None = None) -> dict[str, Any]:
        """The JSON body that `send` posts (exposed for previews and tests)."""
        body: dict[str, Any] = {
            **render.slack_message(alert),
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if self._token is not None:
            body["channel"] = self._channel
            if self._decisions is not None and alert.event is AlertEvent.APPROVAL:
                body["blocks"] = with_decision(body["blocks"], alert, self._token.encode())
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

    async def send_digest(self, alerts: Sequence[Alert]) -> Delivery:
        """Post several alerts as one message; bot mode returns its `ts` for follow-ups."""
        body: dict[str, Any] = {
            **slack_digest(alerts),
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if self._token is not None:
            body["channel"] = self._channel
        data = json.dumps(body).encode()
        if self._webhook_url is not None:
            await self._post(self._webhook_url, data, {}, "slack webhook")
            return Delivery(ref=None, detail=f"{len(alerts)} alert(s) posted by incoming webhook")
        headers = {"Authorization": f"Bearer {self._token}"}
        reply = await self._post(self._post_url, data, headers, "slack chat.postMessage")
        delivery = self._delivery(reply, None)
        return Delivery(
            ref=delivery.ref, detail=f"{len(alerts)} alert(s) in one message, {delivery.detail}"
        )

    async def _post(self, url: str, data: bytes, extra: dict[str, str], channel: str) -> Reply:
        headers = {"Content-Type": "application/json; charset=utf-8", **extra}
        async with self._lock:
            wait = self._last_post + self._min_interval - time.monotonic()
            if wait > 0:
                await self._sleep(wait)
            try:
                reply = await self._http.request(
                    "POST", url, raw_body=data, headers=headers, what=channel
                )
            finally:
                self._last_post = time.monotonic()
        if not reply.ok:
            code = reply.text(80)
            code = f" {code}" if _ERROR_CODE.fullmatch(code) else ""
            raise ProviderError(
                f"{channel}: HTTP {reply.status}{code}",
                retryable=False,
                status=reply.status,
                request_id=reply.request_id,
            )
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

    async def aclose(self) -> None:
        await self._http.aclose()
