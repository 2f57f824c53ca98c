"""HIBP client and feed against a local server that answers like the documented API v3."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import pytest_asyncio

from feeds.hibp import (
    DEFAULT_USER_AGENT,
    BreachInfo,
    HibpClient,
    HibpFeed,
    valid_domain,
    valid_email,
)
from monitor.errors import ConfigError, ProviderError
from monitor.feed import Targets
from monitor.plugins import Family, build
from monitor.retry import parse_retry_after
from monitor.settings import SettingError
from monitor.types import CredentialKind, LeakedCredential
from tests.servers.hibp import API_KEY, HibpData, HibpServer, Scripted, breach_model

UA = "credwatch-tests/1.0 (security team)"


class Recorder:
    """An injectable sleep that records every wait (and really waits when asked to)."""

    def __init__(self, *, real: bool = False) -> None:
        self.waits: list[float] = []
        self.real = real

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.real:
            await asyncio.sleep(seconds)


class FakeClock:
    """Time that only moves when the injected sleep is called."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest_asyncio.fixture
async def hibp() -> AsyncIterator[HibpServer]:
    async with HibpServer(HibpData()) as server:
        yield server


class TickingClock:
    """Time that moves one second per reading: a tiny limiter interval never has to wait."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def client(server: HibpServer, **kwargs: Any) -> HibpClient:
    kwargs.setdefault("api_key", API_KEY)
    kwargs.setdefault("user_agent", UA)
    kwargs.setdefault("rpm", 60_000)
    kwargs.setdefault("clock", TickingClock())
    return HibpClient(base_url=server.base_url, **kwargs)


def assert_headers_on_every_request(server: HibpServer, *, key: str = API_KEY) -> None:
    assert server.requests
    for seen in server.requests:
        assert seen.headers["user-agent"] == UA
        assert seen.headers["hibp-api-key"] == key


# ------------------------------------------------------------------------------------------------
# Client: endpoints and shapes
# ------------------------------------------------------------------------------------------------


async def test_endpoints_return_documented_shapes(hibp: HibpServer) -> None:
    hibp.data.by_website_domain["portal.example.org"] = ["a@partner.example", "b@other.example"]
    hibp.data.by_email_domain["partner.example"] = {"alice": ["netflix.com"], "bob": ["x.io"]}
    hibp.data.by_email["alice+tag@partner.example"] = ["netflix.com", "portal.example.org"]
    hibp.data.breached_domain["partner.example"] = {"alice": ["Adobe"], "bob": ["Adobe", "Ga"]}
    hibp.data.breaches["Adobe"] = breach_model(
        "Adobe", domain="Adobe.com", added="2013-12-04T00:00:00Z", breach_date="2013-10-04"
    )
    async with client(hibp, rpm=None) as c:
        status = await c.subscription_status()
        assert (status.rpm, status.includes_stealer_logs, status.name) == (6000, True, "Pwned 1")
        assert c.interval == pytest.approx(0.01)
        assert await c.stealer_logs_by_website_domain("portal.example.org") == [
            "a@partner.example",
            "b@other.example",
        ]
        assert await c.stealer_logs_by_email_domain("partner.example") == {
            "alice": ["netflix.com"],
            "bob": ["x.io"],
        }
        assert await c.stealer_logs_by_email("alice+tag@partner.example") == [
            "netflix.com",
            "portal.example.org",
        ]
        assert await c.breached_domain("partner.example") == {
            "alice": ["Adobe"],
            "bob": ["Adobe", "Ga"],
        }
        info = await c.breach("Adobe")
        assert await c.breach("Adobe") is info  # cached: one request
        assert await c.subscription_status() is status  # cached: one request
    assert info == BreachInfo(
        name="Adobe",
        title="Adobe",
        domain="adobe.com",
        breach_date=date(2013, 10, 4),
        added_date=datetime(2013, 12, 4, tzinfo=UTC),
        modified_date=datetime(2013, 12, 4, tzinfo=UTC),
        pwn_count=1000,
        data_classes=("Email addresses", "Passwords"),
        is_verified=True,
        is_fabricated=False,
        is_sensitive=False,
        is_retired=False,
        is_spam_list=False,
        is_malware=False,
        is_stealer_log=False,
        is_subscription_free=False,
    )
    assert hibp.paths() == [
        "/subscription/status",
        "/stealerlogsbywebsitedomain/portal.example.org",
        "/stealerlogsbyemaildomain/partner.example",
        "/stealerlogsbyemail/alice+tag@partner.example",
        "/breacheddomain/partner.example",
        "/breach/Adobe",
    ]
    # the e-mail travels URL-encoded in the path
    assert hibp.requests[3].raw_path == "/api/v3/stealerlogsbyemail/alice%2Btag%40partner.example"
    assert_headers_on_every_request(hibp)
    assert {r.method for r in hibp.requests} == {"GET"}


async def test_default_user_agent_is_descriptive(hibp: HibpServer) -> None:
    async with HibpClient(api_key=API_KEY, base_url=hibp.base_url, rpm=60_000) as c:
        await c.stealer_logs_by_email("nobody@example.org")
    assert hibp.requests[0].headers["user-agent"] == DEFAULT_USER_AGENT
    assert DEFAULT_USER_AGENT.startswith("credwatch/")


async def test_404_is_an_empty_result(hibp: HibpServer) -> None:
    async with client(hibp) as c:
        assert await c.stealer_logs_by_website_domain("nothing.example") == []
        assert await c.stealer_logs_by_email_domain("nothing.example") == {}
        assert await c.stealer_logs_by_email("nobody@nothing.example") == []
        assert await c.breached_domain("nothing.example") == {}
        assert await c.breach("NoSuchBreach") is None
    assert len(hibp.requests) == 5
    assert_headers_on_every_request(hibp)


async def test_429_waits_retry_after_then_returns_data(hibp: HibpServer) -> None:
    hibp.data.by_website_domain["portal.example.org"] = ["partner1@partner.example"]
    hibp.script(
        "/stealerlogsbywebsitedomain/portal.example.org",
        Scripted(
            status=429,
            headers={"retry-after": "1"},
            body={"statusCode": 429, "message": "Rate limit is exceeded. Try again in 1 seconds."},
        ),
    )
    sleep = Recorder(real=True)
    async with client(hibp, sleep=sleep, clock=time.monotonic) as c:
        started = time.monotonic()
        emails = await c.stealer_logs_by_website_domain("portal.example.org")
        elapsed = time.monotonic() - started
    assert emails == ["partner1@partner.example"]
    assert len(hibp.requests) == 2
    assert len(sleep.waits) == 1 and sleep.waits[0] == pytest.approx(1.0, abs=0.05)
    assert elapsed >= 0.95
    assert hibp.requests[1].at - hibp.requests[0].at >= 0.95
    assert_headers_on_every_request(hibp)


async def test_429_without_limiter_waits_too(hibp: HibpServer) -> None:
    hibp.script("/breach/Adobe", Scripted(status=429, headers={"retry-after": "2"}))
    sleep = Recorder()
    async with client(hibp, sleep=sleep) as c:
        assert await c.breach("Adobe") is None
    assert sleep.waits == [2.0]
    assert len(hibp.requests) == 2


async def test_429_longer_than_the_cap_is_deferred_not_slept(hibp: HibpServer) -> None:
    hibp.script(
        "/breacheddomain/partner.example", Scripted(status=429, headers={"retry-after": "3600"})
    )
    sleep = Recorder()
    async with client(hibp, sleep=sleep, max_retry_after=60) as c:
        with pytest.raises(ProviderError) as caught:
            await c.breached_domain("partner.example")
    assert caught.value.retryable is True
    assert caught.value.status == 429
    assert sleep.waits == []
    assert len(hibp.requests) == 1


async def test_401_is_not_retried(hibp: HibpServer) -> None:
    bad_key = "ffffffffffffffffffffffffffffffff"
    sleep = Recorder()
    async with client(hibp, api_key=bad_key, sleep=sleep) as c:
        with pytest.raises(ProviderError) as caught:
            await c.stealer_logs_by_website_domain("portal.example.org")
    err = caught.value
    assert (err.status, err.retryable) == (401, False)
    assert "invalid" in str(err)
    assert bad_key not in str(err)
    assert len(hibp.requests) == 1
    assert sleep.waits == []
    assert_headers_on_every_request(hibp, key=bad_key)


async def test_403_blocked_carries_cf_ray(hibp: HibpServer) -> None:
    hibp.script(
        "/breacheddomain/partner.example",
        Scripted(status=403, headers={"cf-ray": "8a1b2c3d4e5f6789-CDG"}),
    )
    sleep = Recorder()
    async with client(hibp, sleep=sleep) as c:
        with pytest.raises(ProviderError) as caught:
            await c.breached_domain("partner.example")
    err = caught.value
    assert (err.status, err.retryable, err.request_id) == (403, False, "8a1b2c3d4e5f6789-CDG")
    assert "user-agent" in str(err) and "cf-ray 8a1b2c3d4e5f6789-CDG" in str(err)
    assert API_KEY not in str(err)
    assert len(hibp.requests) == 1
    assert sleep.waits == []


async def test_5xx_retried_with_backoff(hibp: HibpServer) -> None:
    hibp.data.by_email_domain["partner.example"] = {"alice": ["netflix.com"]}
    hibp.script(
        "/stealerlogsbyemaildomain/partner.example",
        Scripted(status=503),
        Scripted(status=502),
    )
    sleep = Recorder()
    async with client(hibp, sleep=sleep, backoff_base=0.5, jitter=0) as c:
        assert await c.stealer_logs_by_email_domain("partner.example") == {"alice": ["netflix.com"]}
    assert sleep.waits == [0.5, 1.0]
    assert len(hibp.requests) == 3


async def test_5xx_gives_up_after_bounded_retries(hibp: HibpServer) -> None:
    hibp.script("/breacheddomain/partner.example", *[Scripted(status=500)] * 10)
    sleep = Recorder()
    async with client(
        hibp, sleep=sleep, max_retries=3, backoff_base=1, backoff_max=3, jitter=0
    ) as c:
        with pytest.raises(ProviderError) as caught:
            await c.breached_domain("partner.example")
    assert (caught.value.status, caught.value.retryable) == (500, True)
    assert sleep.waits == [1, 2, 3]
    assert len(hibp.requests) == 4


async def test_timeout_is_retried(hibp: HibpServer) -> None:
    hibp.data.by_email["a@partner.example"] = ["netflix.com"]
    hibp.script("/stealerlogsbyemail/a@partner.example", Scripted(status=200, body=[], delay=0.5))
    sleep = Recorder()
    async with client(hibp, sleep=sleep, timeout=0.1, backoff_base=0.01, jitter=0) as c:
        assert await c.stealer_logs_by_email("a@partner.example") == ["netflix.com"]
    assert sleep.waits == [0.01]
    assert len(hibp.requests) == 2
    await asyncio.sleep(0.5)  # let the abandoned handler finish before the server closes


async def test_limiter_spacing_from_rpm_with_injected_clock(hibp: HibpServer) -> None:
    hibp.data.rpm = 600  # one call every 0.1 s
    clock = FakeClock()
    async with client(hibp, rpm=None, sleep=clock.sleep, clock=clock) as c:
        for _ in range(3):
            await c.stealer_logs_by_email("a@partner.example")
        await c.breach("Adobe")  # not counted against the key's Rpm
        assert c.interval == pytest.approx(0.1)
    # the status call takes the first slot; each following call waits one interval
    assert clock.waits == pytest.approx([0.1, 0.1, 0.1])
    assert hibp.paths()[0] == "/subscription/status"
    assert len(hibp.requests) == 5


async def test_limiter_spacing_in_real_time(hibp: HibpServer) -> None:
    hibp.data.rpm = 1200  # 50 ms
    async with client(hibp, rpm=None, clock=time.monotonic) as c:
        for _ in range(4):
            await c.breached_domain("partner.example")
    stamps = [r.at for r in hibp.requests]
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert len(gaps) == 4
    # arrival times carry the event loop's jitter: one gap may be a few ms short
    # when the one before it arrived late, but the window as a whole keeps the pace
    assert stamps[-1] - stamps[0] >= 4 * 0.05 - 0.01
    assert min(gaps) >= 0.03


async def test_limiter_is_shared_by_concurrent_calls(hibp: HibpServer) -> None:
    clock = FakeClock()
    async with client(hibp, rpm=60, sleep=clock.sleep, clock=clock) as c:
        await asyncio.gather(*(c.breached_domain("partner.example") for _ in range(4)))
    assert clock.waits == pytest.approx([1.0, 1.0, 1.0])


def test_retry_after_parsing() -> None:
    now = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("1", now=now) == 1.0
    assert parse_retry_after(" 2.5 ", now=now) == 2.5
    assert parse_retry_after("Tue, 01 Jan 2030 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Tue, 01 Jan 2030 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None, now=now) is None


def test_configuration_errors() -> None:
    with pytest.raises(SettingError) as missing:
        HibpFeed.from_config({"api_key_env": "CREDWATCH_TEST_HIBP_KEY"}, {})
    assert str(missing.value) == (
        "[feeds.hibp] api_key_env: environment variable CREDWATCH_TEST_HIBP_KEY is not set"
    )
    with pytest.raises(SettingError) as unknown:
        HibpFeed.from_config({"rpm": 10}, {"HIBP_API_KEY": API_KEY})
    assert str(unknown.value) == "[feeds.hibp] rpm: unknown key"
    with pytest.raises(SettingError) as typed:
        HibpFeed.from_config({"timeout": "soon"}, {"HIBP_API_KEY": API_KEY})
    assert str(typed.value) == "[feeds.hibp] timeout: input should be a valid number"
    with pytest.raises(ConfigError):
        HibpClient(api_key=API_KEY, user_agent=" ")
    with pytest.raises(ConfigError):
        HibpClient(api_key=API_KEY, rpm=0)
    assert HibpClient(api_key=API_KEY, rpm=10).interval == 6.0


async def test_registry_builds_the_feed_from_its_section(hibp: HibpServer) -> None:
    hibp.data.by_email["a@partner.example"] = ["netflix.com"]
    feed = build(
        Family.FEEDS,
        "hibp",
        {"api_key_env": "CW_HIBP", "base_url": hibp.base_url, "user_agent": UA, "max_retries": 0},
        {"CW_HIBP": f" {API_KEY} "},
    )
    try:
        assert isinstance(feed, HibpFeed)
        assert await feed.client.stealer_logs_by_email("a@partner.example") == ["netflix.com"]
    finally:
        await feed.aclose()
    assert_headers_on_every_request(hibp)
    assert API_KEY not in repr(feed.client)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Alice@Partner.Example", "alice@partner.example"),
        ("  bob.smith+x@partner.example\n", "bob.smith+x@partner.example"),
        ("carol%40partner.example", "carol@partner.example"),
        ("dave@bücher.example", "dave@xn--bcher-kva.example"),
        ("no-at-sign.example", ""),
        ("@partner.example", ""),
        ("a@b@partner.example", ""),
        ("<script>@partner.example", ""),
        ("a b@partner.example", ""),
        ("a\x00@partner.example", ""),
        (".a@partner.example", ""),
        ("a..b@partner.example", ""),
        ("a@localhost", ""),
        ("a@-bad-.example", ""),
        ("a@exa_mple.com", ""),
        ("x" * 65 + "@partner.example", ""),
        (42, ""),
        (None, ""),
    ],
)
def test_valid_email(raw: object, expected: str) -> None:
    assert valid_email(raw) == expected


def test_valid_domain() -> None:
    assert valid_domain("Netflix.COM.") == "netflix.com"
    assert valid_domain("bad domain!") == ""
    assert valid_domain("a/b.com") == ""
    assert valid_domain("com") == ""
    assert valid_domain(["x.com"]) == ""


# ------------------------------------------------------------------------------------------------
# Feed
# ------------------------------------------------------------------------------------------------

PORTAL = "portail-partenaire.example.org"


def feed_data() -> HibpData:
    data = HibpData()
    data.by_website_domain[PORTAL] = [
        "Alice@Partner.example",
        " bob@other.example ",
        "junk",
        "<script>alert(1)</script>@x.example",
        42,
        "alice@partner.example",  # duplicate after normalisation
        "carol%40partner.example",
    ]
    data.by_email_domain["partner.example"] = {
        "alice": [PORTAL, "Netflix.com", "bad domain!"],
        "Dave": ["spotify.com"],
        "bad alias": ["spotify.com"],
    }
    data.breached_domain["partner.example"] = {
        "alice": ["Adobe"],
        "erin": ["Adobe", "UnknownBreach", "../etc/passwd"],
    }
    data.breaches["Adobe"] = breach_model(
        "Adobe", domain="adobe.com", added="2013-12-04T00:00:00Z", breach_date="2013-10-04"
    )
    return data


def account(**kwargs: Any) -> LeakedCredential:
    return LeakedCredential(kind=CredentialKind.ACCOUNT, secret=None, feed="hibp", **kwargs)


async def test_feed_produces_exact_records() -> None:
    async with HibpServer(feed_data()) as server:
        feed = HibpFeed(client(server, rpm=None))
        targets = Targets(
            portal_hosts=(PORTAL, "Portail-Partenaire.Example.org."),
            partner_domains=("partner.example",),
            domains=("example.org",),
        )
        try:
            records = [r async for r in feed.records(targets)]
        finally:
            await feed.aclose()
    website = f"hibp:stealerlogsbywebsitedomain/{PORTAL}"
    by_domain = "hibp:stealerlogsbyemaildomain/partner.example"
    breached = "hibp:breacheddomain/partner.example"
    portal_url = f"https://{PORTAL}/"
    added = datetime(2013, 12, 4, tzinfo=UTC)
    assert records == [
        account(
            url=portal_url, host=PORTAL, path="/", login="alice@partner.example", origin=website
        ),
        account(url=portal_url, host=PORTAL, path="/", login="bob@other.example", origin=website),
        account(
            url=portal_url, host=PORTAL, path="/", login="carol@partner.example", origin=website
        ),
        account(
            url=portal_url, host=PORTAL, path="/", login="alice@partner.example", origin=by_domain
        ),
        account(
            url="https://netflix.com/",
            host="netflix.com",
            path="/",
            login="alice@partner.example",
            origin=by_domain,
        ),
        account(
            url="https://spotify.com/",
            host="spotify.com",
            path="/",
            login="dave@partner.example",
            origin=by_domain,
        ),
        account(
            url="",
            host="adobe.com",
            path="",
            login="alice@partner.example",
            origin=breached + "#Adobe",
            first_seen=added,
        ),
        account(
            url="",
            host="adobe.com",
            path="",
            login="erin@partner.example",
            origin=breached + "#Adobe",
            first_seen=added,
        ),
        account(
            url="",
            host="",
            path="",
            login="erin@partner.example",
            origin=breached + "#UnknownBreach",
        ),
    ]
    # junk, <script>, 42, "bad domain!", "bad alias", "../etc/passwd"
    assert feed.skipped == 6
    assert feed.emitted == 9
    assert server.paths() == [
        "/subscription/status",
        f"/stealerlogsbywebsitedomain/{PORTAL}",
        "/stealerlogsbyemaildomain/partner.example",
        "/breacheddomain/partner.example",
        "/breach/Adobe",
        "/breach/UnknownBreach",
        "/stealerlogsbyemaildomain/example.org",
        "/breacheddomain/example.org",
    ]
    assert_headers_on_every_request(server)


async def test_feed_without_stealer_log_subscription_reads_breaches_only() -> None:
    data = feed_data()
    data.includes_stealer_logs = False
    async with HibpServer(data) as server, client(server, rpm=None) as c:
        feed = HibpFeed(c)
        targets = Targets(portal_hosts=(PORTAL,), partner_domains=("partner.example",), domains=())
        records = [r async for r in feed.records(targets)]
    assert [r.origin.split("#")[0] for r in records] == ["hibp:breacheddomain/partner.example"] * 3
    assert server.paths() == [
        "/subscription/status",
        "/breacheddomain/partner.example",
        "/breach/Adobe",
        "/breach/UnknownBreach",
    ]


async def test_feed_propagates_an_invalid_key() -> None:
    async with HibpServer(feed_data()) as server:
        feed = HibpFeed(client(server, api_key="0" * 32, rpm=None))
        targets = Targets(portal_hosts=(PORTAL,), partner_domains=(), domains=())
        try:
            with pytest.raises(ProviderError) as caught:
                [r async for r in feed.records(targets)]
        finally:
            await feed.aclose()
    assert caught.value.status == 401
    assert len(server.requests) == 1


# ------------------------------------------------------------------------------------------------
# Domain search (ad-hoc lookups)
# ------------------------------------------------------------------------------------------------


async def test_domain_search_asks_only_about_a_verified_domain() -> None:
    data = HibpData(subscribed_domains=["acme.example"])
    data.breached_domain["acme.example"] = {"a": ["Adobe", "Adobe", "LinkedIn"], "b": ["Adobe"]}
    data.breached_domain["other.example"] = {"c": ["Adobe"]}
    data.by_email_domain["acme.example"] = {"a": ["netflix.com"], "d": ["x.example"]}
    async with HibpServer(data) as server, client(server, rpm=None) as c:
        feed = HibpFeed(c)
        verified = await feed.domain_search("ACME.example")
        other = await feed.domain_search("other.example")
    assert verified.verified and verified.accounts == 2
    assert verified.breaches == (("Adobe", 2), ("LinkedIn", 1))
    assert verified.stealer_log_accounts == 2
    assert not other.verified and other.accounts == 0
    assert server.paths() == [
        "/subscription/status",
        "/subscribeddomains",
        "/breacheddomain/acme.example",
        "/stealerlogsbyemaildomain/acme.example",
        "/subscribeddomains",
    ]
    assert_headers_on_every_request(server)


async def test_domain_search_without_stealer_logs_and_with_an_invalid_key() -> None:
    data = HibpData(subscribed_domains=["acme.example"], includes_stealer_logs=False)
    data.breached_domain["acme.example"] = {"a": ["Adobe"]}
    async with HibpServer(data) as server:
        async with client(server, rpm=None) as c:
            answer = await HibpFeed(c).domain_search("acme.example")
        assert answer.verified and answer.stealer_log_accounts is None
        async with client(server, api_key="0" * 32, rpm=None) as bad:
            with pytest.raises(ProviderError) as caught:
                await HibpFeed(bad).domain_search("acme.example")
    assert caught.value.status == 401
