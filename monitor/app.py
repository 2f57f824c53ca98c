"""The composition root: config, store, plug-ins and scanner built once, closed once.

Every CLI command and the daemon open one `App` and use its parts; nothing else builds them.
Plug-ins come from the registry (monitor.plugins) by name, so this module imports none.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor import keys, plugins
from monitor.config import Config, hmac_key, load_config, previous_hmac_keys
from monitor.feed import ApiFeed, PathFeed
from monitor.notify import Notifier
from monitor.outbox import DeliveryReport, deliver
from monitor.pipeline import Scanner, default_workdir
from monitor.plugins import Family
from monitor.policy import PolicyConfig
from monitor.respond import Responses
from monitor.responder import PortalHook
from monitor.responder_roles import ResponderRoles, portal_hooks, read_roles
from monitor.settings import SettingError
from monitor.store import db
from monitor.store.store import Store
from monitor.watchlist import Watchlist, build_watchlist

Announce = Callable[[str], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Deliveries:
    """What one round of containment and alert delivery did."""

    containments: int
    sent: int
    failed: int


@dataclass(frozen=True, slots=True, kw_only=True)
class App:
    config: Config
    watch: Watchlist
    key: bytes
    store: Store
    notifiers: tuple[Notifier, ...]
    responses: Responses
    scanner: Scanner
    api_feeds: Mapping[str, ApiFeed]

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.notifiers)

    async def respond_and_alert(self, *, batch: int = 20) -> Deliveries:
        """Run the containments that are due, then deliver what is queued on every channel."""
        attempted = await self.responses.run_due(batch=batch)
        sent = failed = 0
        contacts = dict(self.watch.partner_contacts)
        for n in self.notifiers:
            report: DeliveryReport = await deliver(self.store, n, contacts=contacts)
            sent, failed = sent + report.sent, failed + report.failed
        return Deliveries(containments=attempted, sent=sent, failed=failed)


@asynccontextmanager
async def open_app(
    config_path: Path,
    *,
    need_key: bool = True,
    with_plugins: bool = True,
    progress: Callable[[int], None] | None = None,
    announce: Announce | None = None,
    env: Mapping[str, str] | None = None,
) -> AsyncIterator[App]:
    """Build everything from the config file; close everything on the way out, once.

    `with_plugins=False` is for read-only commands: no notifier, responder or API feed is built
    (so their credentials need not be set)."""
    env = os.environ if env is None else env
    config = load_config(config_path)
    watch = build_watchlist(config)
    key = hmac_key(env) if need_key else b""
    previous = previous_hmac_keys(env) if need_key else ()
    notifiers: list[Notifier] = []
    responders: dict[str, Any] = {}
    hooks: dict[str, PortalHook] = {}
    roles = ResponderRoles()
    feeds: dict[str, ApiFeed] = {}
    if with_plugins:
        try:
            notifiers = _notifiers(config, env)
            roles = read_roles(config.responders, portals=config.portals)
            responders = plugins.build_enabled(Family.RESPONDERS, roles.sections, env)
            hooks = portal_hooks(roles, responders)
            feeds = _feeds(config, env)
        except SettingError as exc:
            raise exc.in_file(config.path) from None
    async with AsyncExitStack() as stack:
        for notifier in notifiers:
            stack.push_async_callback(notifier.aclose)
        for feed in feeds.values():
            stack.push_async_callback(feed.aclose)
        target = await asyncio.to_thread(db.resolve_target)
        if target.embedded_root is not None and announce is not None:
            announce(
                f"using the embedded PostgreSQL in {target.embedded_root} "
                "(set CREDWATCH_DSN to use another server)"
            )
        pool = await db.open_pool(target.dsn, password=target.password)
        stack.push_async_callback(pool.close)
        store = Store(pool)
        if need_key:
            await keys.verify(store, keys.KeyRing(current=key, previous=previous))
        channels = tuple(n.name for n in notifiers)
        policy = PolicyConfig.from_mapping(config.policy)
        responses = Responses(
            store,
            policy,
            responders,
            channels=channels,
            portal_hooks=hooks,
            directory=roles.directory,
        )
        stack.push_async_callback(responses.aclose)
        files: PathFeed = plugins.build(Family.FEEDS, "files", {}, env)
        scanner = Scanner(
            store,
            config,
            watch,
            feed=files,
            key=key,
            previous_keys=previous,
            channels=channels,
            workdir=config.scan.workdir or default_workdir(db.data_dir()),
            planner=responses,
            progress=progress,
        )
        yield App(
            config=config,
            watch=watch,
            key=key,
            store=store,
            notifiers=tuple(notifiers),
            responses=responses,
            scanner=scanner,
            api_feeds=feeds,
        )


def _notifiers(config: Config, env: Mapping[str, str]) -> list[Notifier]:
    """One notifier per enabled section; the console alone when none is configured."""
    sections = config.notifiers or {"console": {}}
    return list(plugins.build_enabled(Family.NOTIFIERS, sections, env).values())


def _feeds(config: Config, env: Mapping[str, str]) -> dict[str, ApiFeed]:
    """The API feeds configured under [feeds.NAME] (the files feed needs no section)."""
    sections: dict[str, Any] = {k: v for k, v in config.feeds.items() if k != "files"}
    return plugins.build_enabled(Family.FEEDS, sections, env)
