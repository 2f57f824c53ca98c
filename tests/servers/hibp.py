"""A local aiohttp server that answers like the Have I Been Pwned API v3, for tests."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web
from aiohttp.test_utils import TestServer

API_KEY = "0123456789abcdef0123456789abcdef"
PREFIX = "/api/v3"


@dataclass(frozen=True, slots=True, kw_only=True)
class Scripted:
    """A canned answer served before the normal one (429, 5xx, a block, a slow answer)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Seen:
    """One request as the server received it."""

    method: str
    raw_path: str
    path: str
    headers: dict[str, str]
    at: float


@dataclass(slots=True, kw_only=True)
class HibpData:
    """What the fake HIBP knows. Keys of the domain maps are the domains as requested."""

    rpm: int = 6000
    subscription_name: str = "Pwned 1"
    includes_stealer_logs: bool = True
    by_website_domain: dict[str, list[Any]] = field(default_factory=dict)
    by_email_domain: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    by_email: dict[str, list[Any]] = field(default_factory=dict)
    breached_domain: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    breaches: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscribed_domains: list[str] = field(default_factory=list)  # verified for domain search


def breach_model(name: str, *, domain: str, added: str, breach_date: str) -> dict[str, Any]:
    """A breach in the documented shape of `GET /breach/{name}`."""
    return {
        "Name": name,
        "Title": name,
        "Domain": domain,
        "BreachDate": breach_date,
        "AddedDate": added,
        "ModifiedDate": added,
        "PwnCount": 1000,
        "Description": "<p>Generated for tests.</p>",
        "LogoPath": "https://haveibeenpwned.com/Content/Images/PwnedLogos/List.png",
        "DataClasses": ["Email addresses", "Passwords"],
        "IsVerified": True,
        "IsFabricated": False,
        "IsSensitive": False,
        "IsRetired": False,
        "IsSpamList": False,
        "IsMalware": False,
        "IsStealerLog": False,
        "IsSubscriptionFree": False,
    }


def subscribed_domain(name: str, pwned: int) -> dict[str, Any]:
    """A verified domain in the documented shape of `GET /subscribeddomains`."""
    return {
        "DomainName": name,
        "PwnCount": pwned,
        "PwnCountExcludingSpamLists": pwned,
        "PwnCountExcludingSpamListsAtLastSubscriptionRenewal": pwned,
        "NextSubscriptionRenewal": "2031-01-01T00:00:00",
    }


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"statusCode": status, "message": message}, status=status, headers=headers
    )


class HibpServer:
    """`async with HibpServer(data) as hibp:` → `hibp.base_url`, `hibp.requests`, `hibp.script`."""

    def __init__(self, data: HibpData | None = None, *, api_key: str = API_KEY) -> None:
        self.data = data or HibpData()
        self.api_key = api_key
        self.requests: list[Seen] = []
        self._scripts: dict[str, deque[Scripted]] = {}
        app = web.Application()
        app.router.add_get(PREFIX + "/{tail:.*}", self._handle)
        self._server = TestServer(app, host="127.0.0.1", port=0)

    @property
    def base_url(self) -> str:
        return str(self._server.make_url(PREFIX))

    def script(self, path: str, *answers: Scripted) -> None:
        """Queue canned answers for `path` (as decoded, e.g. "/stealerlogsbyemail/a@b.c")."""
        self._scripts.setdefault(path, deque()).extend(answers)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    async def __aenter__(self) -> Self:
        await self._server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._server.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        self.requests.append(
            Seen(
                method=request.method,
                raw_path=request.raw_path,
                path=path,
                headers={k.lower(): v for k, v in request.headers.items()},
                at=time.monotonic(),
            )
        )
        queue = self._scripts.get(path)
        if queue:
            canned = queue.popleft()
            if canned.delay:
                await asyncio.sleep(canned.delay)
            if canned.body is None:
                return web.Response(status=canned.status, headers=canned.headers)
            return web.json_response(canned.body, status=canned.status, headers=canned.headers)
        if not request.headers.get("user-agent", "").strip():
            return web.Response(status=403, headers={"cf-ray": "8f00000000000001-CDG"})
        if path.startswith("/breach/"):
            found = self.data.breaches.get(path.removeprefix("/breach/"))
            return web.json_response(found) if found else web.Response(status=404)
        if request.headers.get("hibp-api-key") != self.api_key:
            return _error(401, "Access denied due to invalid hibp-api-key.")
        return self._answer(path)

    def _answer(self, path: str) -> web.StreamResponse:
        data = self.data
        if path == "/subscription/status":
            return web.json_response(
                {
                    "SubscriptionName": data.subscription_name,
                    "Description": "Generated for tests",
                    "SubscribedUntil": "2031-01-01T00:00:00",
                    "Rpm": data.rpm,
                    "DomainSearchMaxBreachedAccounts": 25,
                    "IncludesStealerLogs": data.includes_stealer_logs,
                }
            )
        if path == "/subscribeddomains":
            return web.json_response(
                [
                    subscribed_domain(d, len(data.breached_domain.get(d, {})))
                    for d in data.subscribed_domains
                ]
            )
        kind, _, arg = path.strip("/").partition("/")
        tables: dict[str, Any] = {
            "stealerlogsbywebsitedomain": data.by_website_domain,
            "stealerlogsbyemaildomain": data.by_email_domain,
            "stealerlogsbyemail": data.by_email,
            "breacheddomain": data.breached_domain,
        }
        table = tables.get(kind)
        if table is None:
            return web.Response(status=404)
        if kind.startswith("stealerlogs") and not data.includes_stealer_logs:
            return _error(401, "Your subscription does not include stealer logs.")
        found = table.get(arg)
        return web.json_response(found) if found else web.Response(status=404)
