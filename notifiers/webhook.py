"""Generic webhook notifier for SIEM/SOAR: the alert as JSON, HMAC-SHA256 signed, one id per alert.

Every POST carries:
- `X-Credwatch-Delivery: <alert id>`: stable across retries, so receivers can drop duplicates;
- `X-Credwatch-Timestamp: <unix seconds>`: fresh on every attempt;
- `X-Credwatch-Signature: sha256=<hex>`: HMAC-SHA256 with the shared key over
  `<timestamp>.<body>`, so a captured request cannot be replayed later with a new timestamp.
Receivers check it with `monitor.signing.verify_signature`. 2xx is accepted; 429 and 5xx are retried honouring
Retry-After; any other status is final. The body is the alert as an ECS document (`monitor/siem.py`,
schema in `monitor/siem_event.schema.json`): the masked hint, never a secret.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

import aiohttp
from pydantic import Field

from monitor.errors import ProviderError
from monitor.http import ALL_5XX, HttpClient, statuses
from monitor.notify import Alert, Delivery
from monitor.retry import RetryPolicy, Sleep
from monitor.settings import Section, SettingError, load_section, secret_from_env
from monitor.siem import alert_event
from monitor.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_headers

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "WebhookNotifier", "WebhookSection"]

SECTION = "notifiers.webhook"
DELIVERY_HEADER = "X-Credwatch-Delivery"
EVENT_HEADER = "X-Credwatch-Event"
MIN_KEY_BYTES = 16
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class WebhookSection(Section):
    """`[notifiers.webhook]`: `url` or `url_env` (when the URL embeds a token), `secret_env`."""

    url: str | None = Field(default=None, min_length=1, description="Receiver URL.")
    url_env: str | None = Field(
        default=None, description="Variable holding the URL (when it embeds a token)."
    )
    secret_env: str = Field(description="Variable holding the signing secret.")
    timeout: float = Field(default=10.0, ge=0.1, description="Seconds per request.")
    attempts: int = Field(default=3, ge=1, description="Tries per message.")
    max_retry_after: float = Field(
        default=60.0, ge=0, description="Longest Retry-After honoured, in seconds."
    )


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.hostname and (
        parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
    ):
        return
    raise SettingError(SECTION, "url", "must be an https URL")


class WebhookNotifier:
    """POSTs signed alerts to one URL. Build with `from_config`; close with `aclose`."""

    name: ClassVar[str] = "webhook"

    def __init__(
        self,
        *,
        url: str,
        key: bytes,
        timeout: float = 10.0,
        policy: RetryPolicy | None = None,
        session: aiohttp.ClientSession | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        _check_url(url)
        if len(key) < MIN_KEY_BYTES:
            raise SettingError(
                SECTION, "secret_env", f"the signing key must be at least {MIN_KEY_BYTES} bytes"
            )
        self._url = url
        self._key = key
        self._http = HttpClient(
            provider="webhook",
            timeout=timeout,
            policy=policy or RetryPolicy(base=1.0),
            retry_on=statuses(ALL_5XX),
            sleep=sleep,
            session=session,
        )
        self._clock = clock

    def __repr__(self) -> str:
        return f"WebhookNotifier(host={urlsplit(self._url).hostname!r})"

    @classmethod
    def from_config(cls, section: Mapping[str, Any], env: Mapping[str, str]) -> Self:
        """Build from `[notifiers.webhook]`.

        Keys: `url` or `url_env` (when the URL embeds a token), `secret_env` (the HMAC key);
        optional `timeout` (s), `attempts`, `max_retry_after` (s).
        """
        s = load_section(WebhookSection, section, section=SECTION)
        if (s.url is None) == (s.url_env is None):
            raise SettingError(SECTION, "", "set exactly one of url and url_env")
        url = s.url
        if s.url_env is not None:
            url = secret_from_env(SECTION, "url_env", s.url_env, env)
        key = secret_from_env(SECTION, "secret_env", s.secret_env, env)
        return cls(
            url=url or "",
            key=key.encode(),
            timeout=s.timeout,
            policy=RetryPolicy(attempts=s.attempts, base=1.0, max_wait=s.max_retry_after),
        )

    def body(self, alert: Alert, *, thread_ref: str | None = None) -> bytes:
        """The exact JSON bytes that are signed and sent: the alert as a SIEM event (ECS,
        `monitor/siem.py`, validated by `monitor/siem_event.schema.json`)."""
        payload = alert_event(alert, thread_ref=thread_ref)
        return json.dumps(payload, sort_keys=True).encode()

    async def send(self, alert: Alert, *, thread_ref: str | None = None) -> Delivery:
        """POST the alert; `Delivery.ref` is the thread's first delivery id (for follow-ups)."""
        data = self.body(alert, thread_ref=thread_ref)
        delivery_id = str(alert.id)

        def headers() -> dict[str, str]:
            return {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "credwatch-webhook/1",
                DELIVERY_HEADER: delivery_id,
                EVENT_HEADER: alert.event.value,
                **signed_headers(self._key, data, now=self._clock()),
            }

        reply = await self._http.request(
            "POST", self._url, raw_body=data, headers=headers, what="webhook"
        )
        if not reply.ok:
            raise ProviderError(
                f"webhook: HTTP {reply.status}",
                retryable=False,
                status=reply.status,
                request_id=reply.request_id,
            )
        return Delivery(
            ref=thread_ref or delivery_id,
            detail=f"HTTP {reply.status} after {reply.attempts} attempt(s)",
        )

    async def aclose(self) -> None:
        await self._http.aclose()
