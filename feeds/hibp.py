"""Have I Been Pwned API v3: a rate-limited client and the feed that turns its answers into records."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Self

import aiohttp
from pydantic import Field
from yarl import URL

from monitor.errors import ConfigError, ProviderError
from monitor.feed import DomainAnswer, Targets
from monitor.http import ALL_5XX, HttpClient, statuses
from monitor.normalize import canonical_host, canonical_login, split_url
from monitor.retry import RetryPolicy
from monitor.settings import Section, load_section, secret_from_env
from monitor.types import CredentialKind, LeakedCredential, Problem

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://haveibeenpwned.com/api/v3"
DEFAULT_USER_AGENT = "credwatch/0.1 (infostealer credential-exposure monitor)"
DEFAULT_RPM = 10  # the smallest plan; used when the subscription status does not say
FEED = "hibp"
SECTION = "feeds.hibp"

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LOCAL_FORBIDDEN = frozenset('<>()[]\\,;:"/')
_BREACH_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._'+&-]{0,199}$")


# ---------------------------------------------------------------------------------------------
# Records the API returns
# ---------------------------------------------------------------------------------------------


def _parse_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse_date(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _flag(obj: dict[str, Any], key: str) -> bool:
    return obj.get(key) is True


@dataclass(frozen=True, slots=True, kw_only=True)
class BreachInfo:
    """The HIBP breach model (`GET /breach/{name}`), reduced to what the monitor uses."""

    name: str
    title: str
    domain: str  # canonical host of the breached site, "" when none
    breach_date: date | None
    added_date: datetime | None  # when HIBP loaded it: an upper bound for the theft date
    modified_date: datetime | None
    pwn_count: int
    data_classes: tuple[str, ...]
    is_verified: bool
    is_fabricated: bool
    is_sensitive: bool
    is_retired: bool
    is_spam_list: bool
    is_malware: bool
    is_stealer_log: bool
    is_subscription_free: bool

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> BreachInfo:
        pwn = obj.get("PwnCount")
        classes = obj.get("DataClasses")
        return cls(
            name=str(obj.get("Name") or ""),
            title=str(obj.get("Title") or ""),
            domain=canonical_host(str(obj.get("Domain") or "")),
            breach_date=_parse_date(obj.get("BreachDate")),
            added_date=_parse_datetime(obj.get("AddedDate")),
            modified_date=_parse_datetime(obj.get("ModifiedDate")),
            pwn_count=pwn if isinstance(pwn, int) and not isinstance(pwn, bool) else 0,
            data_classes=tuple(c for c in classes if isinstance(c, str))
            if isinstance(classes, list)
            else (),
            is_verified=_flag(obj, "IsVerified"),
            is_fabricated=_flag(obj, "IsFabricated"),
            is_sensitive=_flag(obj, "IsSensitive"),
            is_retired=_flag(obj, "IsRetired"),
            is_spam_list=_flag(obj, "IsSpamList"),
            is_malware=_flag(obj, "IsMalware"),
            is_stealer_log=_flag(obj, "IsStealerLog"),
            is_subscription_free=_flag(obj, "IsSubscriptionFree"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionStatus:
    """`GET /subscription/status`: the plan behind the key and its rate limit."""

    name: str
    subscribed_until: datetime | None
    rpm: int
    domain_search_max_breached_accounts: int | None
    includes_stealer_logs: bool

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> SubscriptionStatus:
        rpm = obj.get("Rpm")
        cap = obj.get("DomainSearchMaxBreachedAccounts")
        return cls(
            name=str(obj.get("SubscriptionName") or ""),
            subscribed_until=_parse_datetime(obj.get("SubscribedUntil")),
            rpm=rpm if isinstance(rpm, int) and not isinstance(rpm, bool) and rpm > 0 else 0,
            domain_search_max_breached_accounts=cap
            if isinstance(cap, int) and not isinstance(cap, bool)
            else None,
            includes_stealer_logs=_flag(obj, "IncludesStealerLogs"),
        )


# ---------------------------------------------------------------------------------------------
# Validation of attacker-controlled values
# ---------------------------------------------------------------------------------------------


def valid_domain(raw: object) -> str:
    """The canonical form of a website or e-mail domain from the API, or "" when it is junk."""
    if not isinstance(raw, str) or len(raw) > 253:
        return ""
    host = canonical_host(raw)
    if not host or len(host) > 253 or "." not in host:
        return ""
    if not all(_LABEL.match(label) for label in host.split(".")):
        return ""
    return host


def valid_email(raw: object) -> str:
    """The canonical e-mail (stripped, lower-cased, A-label domain), or "" when it is junk.

    Case is folded the way `canonical_login` folds it, so the matcher compares like with like.
    """
    if not isinstance(raw, str) or len(raw) > 320:
        return ""
    login = canonical_login(raw)
    local, at, domain = login.rpartition("@")
    if not at or not local or len(local) > 64 or "@" in local:
        return ""
    if any(c.isspace() or not c.isprintable() or c in _LOCAL_FORBIDDEN for c in local):
        return ""
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return ""
    host = valid_domain(domain)
    if not host:
        return ""
    return f"{local}@{host}"


# ---------------------------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------------------------


class _Limiter:
    """Spaces calls at least `interval` seconds apart (one token every 60/Rpm seconds)."""

    def __init__(self, interval: float, *, sleep: Sleep, clock: Clock) -> None:
        self.interval = interval
        self._sleep = sleep
        self._clock = clock
        self._next_at: float | None = None
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = self._clock()
            slot = now if self._next_at is None else max(now, self._next_at)
            self._next_at = slot + self.interval
            if slot > now:
                await self._sleep(slot - now)


class HibpClient:
    """HIBP API v3 over one aiohttp session: key + user-agent headers, Rpm limiter, bounded retries.

    404 is an empty answer; 401/403 raise a non-retryable `ProviderError`; 429 waits `retry-after`
    (a longer wait than `max_retry_after` is handed back as a retryable error); 5xx, timeouts and
    connection errors are retried with the shared capped, jittered backoff (monitor.http).
    """

    name: ClassVar[str] = "hibp"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        user_agent: str = DEFAULT_USER_AGENT,
        rpm: int | None = None,
        timeout: float = 30.0,
        max_retries: int = 4,
        max_retry_after: float = 120.0,
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
        jitter: float = 0.5,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        if not api_key.strip():
            raise ConfigError("HIBP API key is empty")
        if not user_agent.strip():
            raise ConfigError("HIBP requires a descriptive user-agent")
        if rpm is not None and rpm <= 0:
            raise ConfigError("HIBP rpm must be positive")
        self._api_key = api_key.strip()
        self._base_url = base_url.rstrip("/")
        self._user_agent = user_agent
        self._http = HttpClient(
            provider="hibp",
            timeout=timeout,
            policy=RetryPolicy(
                attempts=max_retries + 1,
                base=backoff_base,
                cap=backoff_max,
                jitter=jitter,
                max_wait=max_retry_after,
            ),
            retry_on=statuses(ALL_5XX),
            request_id_headers=("cf-ray",),
            sleep=sleep,
            session=session,
        )
        self._sleep = sleep
        self._clock = clock
        self._limiter = _Limiter(60.0 / rpm, sleep=sleep, clock=clock) if rpm is not None else None
        self._limiter_lock = asyncio.Lock()
        self._status: SubscriptionStatus | None = None
        self._breaches: dict[str, BreachInfo | None] = {}
        self.junk = 0  # values of the wrong JSON type dropped from answers

    def __repr__(self) -> str:
        return f"HibpClient(base_url={self._base_url!r})"

    @property
    def interval(self) -> float | None:
        """Seconds between calls once the limiter is sized (60/Rpm); None before that."""
        return None if self._limiter is None else self._limiter.interval

    async def __aenter__(self) -> HibpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def _url(self, *segments: str) -> URL:
        quoted = "/".join(urllib.parse.quote(s, safe="") for s in segments)
        return URL(f"{self._base_url}/{quoted}", encoded=True)

    async def _ensure_limiter(self) -> _Limiter:
        if self._limiter is not None:
            return self._limiter
        async with self._limiter_lock:
            if self._limiter is None:
                await self._fetch_status(limited=False)
        assert self._limiter is not None
        return self._limiter

    async def _get(self, *segments: str, limited: bool = True) -> Any:
        """GET a JSON document; None on 404. Raises ProviderError when the outcome is unknown."""
        endpoint = segments[0]
        url = self._url(*segments)
        headers = {
            "hibp-api-key": self._api_key,
            "user-agent": self._user_agent,
            "accept": "application/json",
        }
        limiter = await self._ensure_limiter() if limited else self._limiter
        reply = await self._http.request(
            "GET",
            url,
            headers=headers,
            what=f"HIBP {endpoint}",
            before=limiter.acquire if limited and limiter is not None else None,
        )
        status, cf_ray = reply.status, reply.request_id
        if status == 200:
            try:
                return json.loads(reply.body)
            except ValueError:
                raise ProviderError(
                    f"HIBP {endpoint}: answer is not JSON",
                    retryable=True,
                    status=status,
                    request_id=cf_ray,
                ) from None
        if status == 404:
            return None
        if status == 401:
            raise ProviderError(
                f"HIBP {endpoint}: 401 unauthorised, the hibp-api-key is invalid,"
                " missing or its subscription does not cover this endpoint",
                status=status,
                request_id=cf_ray,
            )
        if status == 403:
            blocked = f" (cf-ray {cf_ray})" if cf_ray else ""
            raise ProviderError(
                f"HIBP {endpoint}: 403 forbidden, user-agent missing or request blocked{blocked}",
                status=status,
                request_id=cf_ray,
            )
        raise ProviderError(
            f"HIBP {endpoint}: unexpected HTTP {status}", status=status, request_id=cf_ray
        )

    async def _fetch_status(self, *, limited: bool) -> SubscriptionStatus:
        data = await self._get("subscription", "status", limited=limited)
        if not isinstance(data, dict):
            raise ProviderError("HIBP subscription/status: no subscription data", status=404)
        status = SubscriptionStatus.from_json(data)
        self._status = status
        if self._limiter is None:
            rpm = status.rpm or DEFAULT_RPM
            self._limiter = _Limiter(60.0 / rpm, sleep=self._sleep, clock=self._clock)
            # the status call itself used the first slot
            await self._limiter.acquire()
            log.info("hibp rate limit", extra={"rpm": rpm, "plan": status.name})
        return status

    async def subscription_status(self, *, refresh: bool = False) -> SubscriptionStatus:
        """The key's plan (cached after the first call); sizes the limiter from its `Rpm`."""
        if self._status is not None and not refresh:
            return self._status
        if self._limiter is None:
            async with self._limiter_lock:
                if self._status is not None and not refresh:
                    return self._status
                return await self._fetch_status(limited=False)
        return await self._fetch_status(limited=True)

    async def stealer_logs_by_website_domain(self, domain: str) -> list[str]:
        """E-mail addresses whose credentials for the website `domain` are in stealer logs (raw)."""
        return self._strings(await self._get("stealerlogsbywebsitedomain", domain))

    async def stealer_logs_by_email_domain(self, domain: str) -> dict[str, list[str]]:
        """Alias (local part) → website domains, for an e-mail domain (raw)."""
        return self._alias_map(await self._get("stealerlogsbyemaildomain", domain))

    async def stealer_logs_by_email(self, email: str) -> list[str]:
        """Website domains the address appears with in stealer logs (raw)."""
        return self._strings(await self._get("stealerlogsbyemail", email))

    async def breached_domain(self, domain: str) -> dict[str, list[str]]:
        """Alias (local part) → breach names, for an e-mail domain (raw)."""
        return self._alias_map(await self._get("breacheddomain", domain))

    async def subscribed_domains(self) -> list[str]:
        """The domains the key's owner verified for domain search (`GET /subscribeddomains`),
        canonical; junk entries are dropped and counted."""
        data = await self._get("subscribeddomains")
        if data is None:
            return []
        if not isinstance(data, list):
            self.junk += 1
            return []
        out: list[str] = []
        for item in data:
            name = valid_domain(item.get("DomainName")) if isinstance(item, dict) else ""
            if name:
                out.append(name)
            else:
                self.junk += 1
        return out

    async def breach(self, name: str) -> BreachInfo | None:
        """One breach's metadata (cached); None when HIBP does not know the name."""
        if name in self._breaches:
            return self._breaches[name]
        # `/breach/{name}` needs no key and is not counted against the key's Rpm.
        data = await self._get("breach", name, limited=False)
        info = BreachInfo.from_json(data) if isinstance(data, dict) else None
        self._breaches[name] = info
        return info

    def _strings(self, data: Any) -> list[str]:
        if data is None:
            return []
        if not isinstance(data, list):
            self.junk += 1
            return []
        out = [v for v in data if isinstance(v, str)]
        self.junk += len(data) - len(out)
        return out

    def _alias_map(self, data: Any) -> dict[str, list[str]]:
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.junk += 1
            return {}
        out: dict[str, list[str]] = {}
        for alias, values in data.items():
            if isinstance(values, list):
                out[alias] = self._strings(values)
            else:
                self.junk += 1
        return out


# ---------------------------------------------------------------------------------------------
# Feed
# ---------------------------------------------------------------------------------------------


class HibpSection(Section):
    """`[feeds.hibp]`: the variable holding the API key, and how to reach the API."""

    api_key_env: str = Field(
        default="HIBP_API_KEY", min_length=1, description="Variable holding the HIBP API key."
    )
    base_url: str = Field(default=DEFAULT_BASE_URL, min_length=1, description="HIBP API URL.")
    user_agent: str = Field(
        default=DEFAULT_USER_AGENT,
        min_length=1,
        description="User-Agent sent to HIBP (it requires one).",
    )
    timeout: float = Field(default=30.0, gt=0, description="Seconds per request.")
    max_retries: int = Field(default=4, ge=0, description="Retries of a failed request.")


class HibpFeed:
    """Turns HIBP answers about the organisation's `Targets` into ACCOUNT records (no secret).

    - each portal host: `stealerlogsbywebsitedomain` → one record per leaked e-mail;
    - each partner or watched e-mail domain: `stealerlogsbyemaildomain` → one record per
      (address, website domain) pair, and `breacheddomain` → one record per (address, breach),
      `first_seen` = the breach's AddedDate.
    Junk values from the API are skipped and counted in `skipped`.
    """

    name: ClassVar[str] = "hibp"

    def __init__(self, client: HibpClient) -> None:
        self.client = client
        self.skipped = 0
        self.emitted = 0

    @classmethod
    def from_config(cls, section: Mapping[str, Any], env: Mapping[str, str]) -> Self:
        """Build from `[feeds.hibp]` (`enabled` is the registry's, removed before this)."""
        s = load_section(HibpSection, section, section=SECTION)
        key = secret_from_env(SECTION, "api_key_env", s.api_key_env, env)
        client = HibpClient(
            api_key=key,
            base_url=s.base_url,
            user_agent=s.user_agent,
            timeout=s.timeout,
            max_retries=s.max_retries,
        )
        return cls(client)

    async def aclose(self) -> None:
        await self.client.aclose()

    def _skip(self, origin: str, reason: str) -> None:
        self.skipped += 1
        log.debug("hibp value skipped", extra={"origin": origin, "reason": reason})

    def _count_junk(self, origin: str, before: int) -> None:
        for _ in range(self.client.junk - before):
            self._skip(origin, "not a string")

    async def records(self, targets: Targets) -> AsyncIterator[LeakedCredential | Problem]:
        """Records for the portal hosts, then for the partner and watched e-mail domains."""
        portal_hosts = _unique_domains(targets.portal_hosts)
        email_domains = _unique_domains([*targets.partner_domains, *targets.domains])
        status = await self.client.subscription_status()
        stealer_logs = status.includes_stealer_logs
        if not stealer_logs:
            log.warning("hibp subscription excludes stealer logs", extra={"plan": status.name})
        if stealer_logs:
            for host in portal_hosts:
                for record in await self._by_website_domain(host):
                    yield record
        for domain in email_domains:
            if stealer_logs:
                for record in await self._by_email_domain(domain):
                    yield record
            async for record in self._breached(domain):
                yield record
        log.info(
            "hibp feed done",
            extra={"records": self.emitted, "skipped": self.skipped},
        )

    async def _by_website_domain(self, host: str) -> list[LeakedCredential]:
        origin = f"hibp:stealerlogsbywebsitedomain/{host}"
        url = f"https://{host}/"
        _, path = split_url(url)
        out: list[LeakedCredential] = []
        seen: set[str] = set()
        before = self.client.junk
        answer = await self.client.stealer_logs_by_website_domain(host)
        self._count_junk(origin, before)
        for raw in answer:
            login = valid_email(raw)
            if not login:
                self._skip(origin, "invalid e-mail")
                continue
            if login in seen:
                continue
            seen.add(login)
            out.append(_account(url=url, host=host, path=path, login=login, origin=origin))
        self.emitted += len(out)
        return out

    async def _by_email_domain(self, domain: str) -> list[LeakedCredential]:
        origin = f"hibp:stealerlogsbyemaildomain/{domain}"
        out: list[LeakedCredential] = []
        seen: set[tuple[str, str]] = set()
        before = self.client.junk
        answer = await self.client.stealer_logs_by_email_domain(domain)
        self._count_junk(origin, before)
        for alias, websites in answer.items():
            login = valid_email(f"{alias}@{domain}")
            if not login:
                self._skip(origin, "invalid alias")
                continue
            for raw in websites:
                site = valid_domain(raw)
                if not site:
                    self._skip(origin, "invalid website domain")
                    continue
                if (login, site) in seen:
                    continue
                seen.add((login, site))
                url = f"https://{site}/"
                _, path = split_url(url)
                out.append(_account(url=url, host=site, path=path, login=login, origin=origin))
        self.emitted += len(out)
        return out

    async def _breached(self, domain: str) -> AsyncIterator[LeakedCredential]:
        base = f"hibp:breacheddomain/{domain}"
        seen: set[tuple[str, str]] = set()
        before = self.client.junk
        answer = await self.client.breached_domain(domain)
        self._count_junk(base, before)
        for alias, names in answer.items():
            login = valid_email(f"{alias}@{domain}")
            if not login:
                self._skip(base, "invalid alias")
                continue
            for name in names:
                if not _BREACH_NAME.match(name):
                    self._skip(base, "invalid breach name")
                    continue
                if (login, name) in seen:
                    continue
                seen.add((login, name))
                info = await self.client.breach(name)
                self.emitted += 1
                yield LeakedCredential(
                    kind=CredentialKind.ACCOUNT,
                    url="",
                    host=info.domain if info else "",
                    path="",
                    login=login,
                    secret=None,
                    origin=f"{base}#{name}",
                    feed=FEED,
                    first_seen=info.added_date if info else None,
                )

    async def domain_search(self, domain: str) -> DomainAnswer:
        """HIBP's domain search for one e-mail domain: only a domain the key's owner verified is
        asked about (`subscribeddomains`); breaches per address, and stealer-log addresses when
        the subscription includes them. Counts only."""
        host = valid_domain(domain)
        status = await self.client.subscription_status()
        if not host or host not in await self.client.subscribed_domains():
            return DomainAnswer(source=FEED, verified=False)
        breached = await self.client.breached_domain(host)
        per_breach: dict[str, int] = {}
        for names in breached.values():
            for name in set(names):
                if _BREACH_NAME.match(name):
                    per_breach[name] = per_breach.get(name, 0) + 1
        stealer = None
        if status.includes_stealer_logs:
            stealer = len(await self.client.stealer_logs_by_email_domain(host))
        return DomainAnswer(
            source=FEED,
            verified=True,
            accounts=len(breached),
            breaches=tuple(sorted(per_breach.items(), key=lambda kv: (-kv[1], kv[0]))),
            stealer_log_accounts=stealer,
        )


def _account(*, url: str, host: str, path: str, login: str, origin: str) -> LeakedCredential:
    return LeakedCredential(
        kind=CredentialKind.ACCOUNT,
        url=url,
        host=host,
        path=path,
        login=login,
        secret=None,
        origin=origin,
        feed=FEED,
    )


def _unique_domains(domains: Iterable[str]) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for raw in domains:
        host = valid_domain(raw)
        if host:
            out.setdefault(host, None)
        else:
            log.warning(
                "hibp domain ignored", extra={"domain": str(raw)[:253], "reason": "not a domain"}
            )
    return tuple(out)
