"""Generic webhook notifier for SIEM/SOAR: the alert as JSON, HMAC-SHA256 signed, one id per alert.

Every POST carries:
- `X-Credwatch-Delivery: <alert id>`: stable across retries, so receivers can drop duplicates;
- `X-Credwatch-Timestamp: <unix seconds>`: fresh on every attempt;
- `X-Credwatch-Signature: sha256=<hex>`: HMAC-SHA256 with the shared key over
  `<timestamp>.<body>`, so a captured request cannot be replayed later with a new timestamp.
Receivers check it with `verify_signature`. 2xx is accepted; 429 and 5xx are retried honouring
Retry-After; any other status is final. The body holds the masked hint, never a secret.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

import aiohttp

from monitor.errors import ConfigError
from monitor.notify import Alert, Delivery
from notifiers import render, settings
from notifiers.http import ALL_5XX, RetryPolicy, Sleep, post, status_error

SECTION = "webhook"
SIGNATURE_HEADER = "X-Credwatch-Signature"
TIMESTAMP_HEADER = "X-Credwatch-Timestamp"
DELIVERY_HEADER = "X-Credwatch-Delivery"
EVENT_HEADER = "X-Credwatch-Event"
MIN_KEY_BYTES = 16
_KEYS = frozenset({"url", "url_env", "secret_env", "timeout", "attempts", "max_retry_after"})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def sign(key: bytes, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256(key, timestamp + "." + body)."""
    mac = hmac.new(key, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    key: bytes,
    *,
    body: bytes,
    timestamp: str,
    signature: str,
    now: float | None = None,
    tolerance: float = 300.0,
) -> bool:
    """True when `signature` is ours for this body and the timestamp is within `tolerance` s."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(key, timestamp, body), signature)


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.hostname and (
        parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
    ):
        return
    raise ConfigError(f"[{SECTION}] url must be an https URL")


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
            raise ConfigError(f"[{SECTION}] the signing key must be at least {MIN_KEY_BYTES} bytes")
        self._url = url
        self._key = key
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._policy = policy or RetryPolicy(statuses=ALL_5XX)
        self._session = session
        self._owns_session = session is None
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:
        return f"WebhookNotifier(host={urlsplit(self._url).hostname!r})"

    @classmethod
    def from_config(cls, section: Mapping[str, Any], env: Mapping[str, str]) -> Self:
        """Build from the `[webhook]` section.

        Keys: `url` or `url_env` (when the URL embeds a token), `secret_env` (the HMAC key);
        optional `timeout` (s), `attempts`, `max_retry_after` (s).
        """
        for name in section:
            if name not in _KEYS:
                raise ConfigError(f"unknown key {name!r} in section [{SECTION}]")
        url = settings.text(SECTION, section, "url")
        url_from_env = settings.secret(SECTION, section, "url_env", env)
        if (url is None) == (url_from_env is None):
            raise ConfigError(f"[{SECTION}] set exactly one of url and url_env")
        key = settings.secret(SECTION, section, "secret_env", env)
        if key is None:
            raise ConfigError(f"[{SECTION}] secret_env is required")
        return cls(
            url=url or url_from_env or "",
            key=key.encode(),
            timeout=settings.number(SECTION, section, "timeout", 10.0, minimum=0.1),
            policy=RetryPolicy(
                statuses=ALL_5XX,
                attempts=int(settings.number(SECTION, section, "attempts", 3, minimum=1)),
                max_retry_after=settings.number(SECTION, section, "max_retry_after", 60.0),
            ),
        )

    def body(self, alert: Alert, *, thread_ref: str | None = None) -> bytes:
        """The exact JSON bytes that are signed and sent."""
        payload = render.alert_payload(alert, thread_ref=thread_ref)
        return json.dumps(payload, sort_keys=True).encode()

    async def send(self, alert: Alert, *, thread_ref: str | None = None) -> Delivery:
        """POST the alert; `Delivery.ref` is the thread's first delivery id (for follow-ups)."""
        data = self.body(alert, thread_ref=thread_ref)
        delivery_id = str(alert.id)

        def headers() -> dict[str, str]:
            timestamp = str(int(self._clock()))
            return {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "credwatch-webhook/1",
                DELIVERY_HEADER: delivery_id,
                EVENT_HEADER: alert.event.value,
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(self._key, timestamp, data),
            }

        reply = await post(
            self._get_session(),
            self._url,
            body=data,
            headers=headers,
            policy=self._policy,
            sleep=self._sleep,
            channel="webhook",
        )
        if not reply.ok:
            raise status_error("webhook", reply, self._policy)
        return Delivery(
            ref=thread_ref or delivery_id,
            detail=f"HTTP {reply.status} after {reply.attempts} attempt(s)",
        )

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
            self._owns_session = True
        return self._session

    async def aclose(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None
