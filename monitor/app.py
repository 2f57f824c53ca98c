"""The composition root: config, store, plug-ins and scanner built once, closed once.

Every CLI command and the daemon open one `App` and use its parts; nothing else builds them.
Plug-ins come from the registry (monitor.plugins) by name, so this module imports none.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor import keys, leftovers, logs, plugins, spool
from monitor.config import Config, hmac_key, load_config, previous_hmac_keys
from monitor.feed import ApiFeed, PathFeed
from monitor.hits import URGENT_WAIT
from monitor.notify import Notifier
from monitor.outbox import DeliveryReport, deliver
from monitor.pipeline import Scanner, default_workdir
from monitor.plugin_sections import plugin_sections
from monitor.plugins import Family
from monitor.policy import PolicyConfig
from monitor.respond import Responses
from monitor.responder import PortalHook
from monitor.responder_roles import ResponderRoles, portal_hooks
from monitor.routing import Route, Routes
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
    routes: Routes

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.notifiers)

    async def deliver_all(self, *, urgent_only: bool = False) -> Deliveries:
        """Deliver what is queued, every channel at once (each within its own rate limit)."""
        contacts = dict(self.watch.partner_contacts)
        reports: list[DeliveryReport] = await asyncio.gather(
            *(
                deliver(
                    self.store,
                    n,
                    route=self.routes.route(n.name),
                    contacts=contacts,
                    urgent_only=urgent_only,
                )
                for n in self.notifiers
            )
        )
        return Deliveries(
            containments=0,
            sent=sum(r.sent for r in reports),
            failed=sum(r.failed for r in reports),
        )

    async def respond_and_alert(self, *, batch: int = 20) -> Deliveries:
        """Run the containments that are due, then deliver what is queued on every channel."""
        attempted = await self.responses.run_due(batch=batch)
        done = await self.deliver_all()
        return Deliveries(containments=attempted, sent=done.sent, failed=done.failed)

    @asynccontextmanager
    async def delivering(self, *, every: float = URGENT_WAIT) -> AsyncIterator[None]:
        """While the block runs (a scan), send the urgent alerts as they are queued, in the
        background: the block never waits for a channel. Grouped alerts wait for the caller's
        next `respond_and_alert`. On the way out the round in flight finishes (never cut in
        the middle of a post)."""
        stop = asyncio.Event()

        async def loop() -> None:
            while not stop.is_set():
                await self.deliver_all(urgent_only=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), every)

        task = asyncio.create_task(loop())
        try:
            yield
        finally:
            stop.set()
            await task


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
    logs.from_file(level=config.log.level, fmt=config.log.format)
    key = hmac_key(env) if need_key else b""
    watch = build_watchlist(config, key=key)
    previous = previous_hmac_keys(env) if need_key else ()
    notifiers: list[Notifier] = []
    responders: dict[str, Any] = {}
    hooks: dict[str, PortalHook] = {}
    roles = ResponderRoles()
    feeds: dict[str, ApiFeed] = {}
    try:  # the files feed's section takes no key: a typo under [feeds.files] is refused
        files: PathFeed = plugins.build(Family.FEEDS, "files", config.feeds.get("files", {}), env)
    except SettingError as exc:
        raise exc.in_file(config.path) from None
    if with_plugins:
        try:
            sections = plugin_sections(config)
            notifiers = list(
                plugins.build_enabled(Family.NOTIFIERS, sections.notifiers, env).values()
            )
            roles = sections.roles
            responders = plugins.build_enabled(Family.RESPONDERS, sections.responders, env)
            hooks = portal_hooks(roles, responders)
            feeds = plugins.build_enabled(Family.FEEDS, sections.feeds, env)
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
        routes = _routes(config, channels)
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
        workdir = config.scan.workdir or default_workdir(db.data_dir())
        await leftovers.clear(store, workdir)
        stack.callback(spool.remove_own, workdir)
        scanner = Scanner(
            store,
            config,
            watch,
            feed=files,
            key=key,
            previous_keys=previous,
            channels=channels,
            workdir=workdir,
            planner=responses,
            progress=progress,
            routes=routes,
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
            routes=routes,
        )


def _routes(config: Config, channels: tuple[str, ...]) -> Routes:
    """Each channel's routing keys from its `[notifiers.NAME]` table."""
    try:
        return Routes(
            routes=tuple(Route.from_section(c, config.notifiers.get(c, {})) for c in channels)
        )
    except SettingError as exc:
        raise exc.in_file(config.path) from None
