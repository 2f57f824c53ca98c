"""The shared HTTP client and retry policy against a real local server: waits, caps, give-ups."""

from __future__ import annotations

import socket
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.utils import formatdate

import pytest
import pytest_asyncio
from aiohttp import web

from monitor.errors import ProviderError
from monitor.http import HttpClient, statuses
from monitor.retry import RetryLater, RetryPolicy, TryAgain, parse_reset_epoch, retry_call

SECRET_PATH = "/hooks/T000/B000/s3cr3t-path"


class Sleeps:
    """An injected sleep: records every wait, waits for none."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@dataclass
class Server:
    """Answers each request with the next scripted (status, headers), then 200 `ok`."""

    script: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    seen: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(dict(request.headers))
        status, headers = self.script.popleft() if self.script else (200, {})
        body = "ok" if status == 200 else "secret-echo password=hunter2"
        return web.Response(status=status, headers=headers, text=body)


@pytest_asyncio.fixture
async def server() -> AsyncIterator[Server]:
    s = Server()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", s.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    s.url = f"http://127.0.0.1:{runner.addresses[0][1]}{SECRET_PATH}?token=abc"
    yield s
    await runner.cleanup()


def client(sleeps: Sleeps, **kwargs: object) -> HttpClient:
    policy = kwargs.pop("policy", RetryPolicy(attempts=3, base=0.5, jitter=0, max_wait=60))
    assert isinstance(policy, RetryPolicy)
    return HttpClient(provider="test", timeout=5, policy=policy, sleep=sleeps, **kwargs)  # type: ignore[arg-type]


async def test_retry_after_seconds_is_slept_then_the_answer_returned(server: Server) -> None:
    server.script.append((429, {"Retry-After": "2"}))
    sleeps = Sleeps()
    http = client(sleeps)
    try:
        reply = await http.request("GET", server.url)
    finally:
        await http.aclose()
    assert (reply.status, reply.attempts, reply.body) == (200, 2, b"ok")
    assert sleeps.waits == [2.0]


async def test_retry_after_http_date_is_slept(server: Server) -> None:
    server.script.append((503, {"Retry-After": formatdate(time.time() + 30, usegmt=True)}))
    sleeps = Sleeps()
    http = client(sleeps)
    try:
        reply = await http.request("POST", server.url, raw_body=b"{}")
    finally:
        await http.aclose()
    assert reply.ok and len(server.seen) == 2
    assert len(sleeps.waits) == 1 and 27 <= sleeps.waits[0] <= 30


async def test_reset_header_is_read_against_the_server_date(server: Server) -> None:
    date = "Sun, 22 Nov 2026 10:00:00 GMT"
    reset = str(1795341600 + 7)  # the Date header's epoch + 7 s
    server.script.append((429, {"X-Rate-Limit-Reset": reset, "Date": date}))
    sleeps = Sleeps()
    http = client(sleeps, reset_header="X-Rate-Limit-Reset")
    try:
        reply = await http.request("GET", server.url)
    finally:
        await http.aclose()
    assert reply.ok
    assert sleeps.waits == [pytest.approx(7.1)]


async def test_a_wait_over_the_cap_is_raised_retryable_without_sleeping(server: Server) -> None:
    server.script.append((429, {"Retry-After": "3600", "X-Request-Id": "req-42"}))
    sleeps = Sleeps()
    http = client(sleeps)
    try:
        with pytest.raises(RetryLater) as caught:
            await http.request("GET", server.url, what="test GET")
    finally:
        await http.aclose()
    err = caught.value
    assert (err.retryable, err.status, err.request_id, err.after) == (True, 429, "req-42", 3600)
    assert str(err) == "test GET: asked to wait 3600s, more than 60s (HTTP 429)"
    assert sleeps.waits == [] and len(server.seen) == 1


async def test_a_4xx_is_returned_at_once(server: Server) -> None:
    server.script.append((404, {"request-id": "graph-1"}))
    sleeps = Sleeps()
    http = client(sleeps)
    try:
        reply = await http.request("GET", server.url)
    finally:
        await http.aclose()
    assert (reply.status, reply.attempts, reply.request_id) == (404, 1, "graph-1")
    assert sleeps.waits == [] and len(server.seen) == 1


async def test_5xx_backs_off_exponentially_then_gives_up_without_echoing(server: Server) -> None:
    server.script.extend([(500, {}), (502, {}), (503, {})])
    sleeps = Sleeps()
    http = client(sleeps)
    try:
        with pytest.raises(ProviderError) as caught:
            await http.request("GET", server.url)
    finally:
        await http.aclose()
    err = caught.value
    assert (err.retryable, err.status) == (True, 503)
    assert str(err) == "test GET: gave up after 3 attempts (HTTP 503)"
    assert "hunter2" not in str(err) and "s3cr3t" not in str(err)
    assert sleeps.waits == [0.5, 1.0]


async def test_retryable_statuses_are_chosen_per_provider(server: Server) -> None:
    server.script.append((503, {}))
    sleeps = Sleeps()
    http = client(sleeps, retry_on=statuses(frozenset({429})))
    try:
        reply = await http.request("GET", server.url)
    finally:
        await http.aclose()
    assert reply.status == 503 and sleeps.waits == []


async def test_header_function_is_called_for_every_attempt(server: Server) -> None:
    server.script.append((502, {}))
    stamps = iter(["1", "2"])
    http = client(Sleeps())
    try:
        await http.request("POST", server.url, raw_body=b"x", headers=lambda: {"X-N": next(stamps)})
    finally:
        await http.aclose()
    assert [h["X-N"] for h in server.seen] == ["1", "2"]


async def test_connection_errors_are_retried_then_raised_without_the_url() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    sleeps = Sleeps()
    http = client(sleeps)
    try:
        with pytest.raises(ProviderError) as caught:
            await http.request("GET", f"http://127.0.0.1:{port}{SECRET_PATH}")
    finally:
        await http.aclose()
    err = caught.value
    assert err.retryable is True and err.status is None
    assert str(err).startswith("test GET: gave up after 3 attempts (Client")
    assert "s3cr3t" not in str(err) and str(port) not in str(err)
    assert sleeps.waits == [0.5, 1.0]


async def test_an_unusable_url_is_final() -> None:
    http = client(Sleeps())
    try:
        with pytest.raises(ProviderError) as caught:
            await http.request("GET", "ftp://h.example/s3cr3t")
    finally:
        await http.aclose()
    assert caught.value.retryable is False
    assert str(caught.value) == "test GET: unusable URL"


async def test_the_policy_serves_non_http_calls_too() -> None:
    outcomes: deque[Exception | str] = deque([TryAgain("LDAPSocketOpenError"), TryAgain("x"), "ok"])
    sleeps = Sleeps()

    async def attempt() -> str:
        out = outcomes.popleft()
        if isinstance(out, Exception):
            raise out
        return out

    policy = RetryPolicy(attempts=3, base=1.0, jitter=0)
    assert await retry_call(attempt, policy=policy, what="ldap", sleep=sleeps) == "ok"
    assert sleeps.waits == [1.0, 2.0]


def test_backoff_is_capped_and_jitter_only_shortens_it() -> None:
    policy = RetryPolicy(base=1.0, cap=8.0, jitter=0.5)
    for attempt, full in [(1, 1.0), (2, 2.0), (4, 8.0), (9, 8.0)]:
        for _ in range(50):
            assert full / 2 <= policy.backoff(attempt) <= full
    assert RetryPolicy(base=1.0, cap=8.0, jitter=0).backoff(3) == 4.0


def test_reset_epoch_is_measured_against_the_date_header() -> None:
    date = "Sun, 22 Nov 2026 10:00:00 GMT"
    assert parse_reset_epoch("1795341600", date=date) == 0.0  # 1795341600 is that Date
    assert parse_reset_epoch("1795341607", date=date) == 7.0
    assert parse_reset_epoch("1795341500", date=date) == 0.0
    assert parse_reset_epoch("soon", date=date) is None
    assert parse_reset_epoch(None) is None
