"""The `credwatch` command line: each command is a thin synchronous wrapper over async code."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import asyncpg
import typer
from rich.console import Console
from rich.table import Table

from monitor import plugins
from monitor.config import DEFAULT_CONFIG, Config, hmac_key, load_config
from monitor.errors import CredwatchError
from monitor.example_config import EXAMPLE
from monitor.plugins import Family
from monitor.store import db, embedded, repo
from monitor.types import Exposure
from monitor.watchlist import Watchlist, build_watchlist

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,  # never dump locals: they can hold leaked secrets
    no_args_is_help=True,
    help="Find an organisation's leaked credentials in stealer logs and breach corpora.\n\n"
    "Exit codes: 0 nothing found, 1 exposures found, 2 error.",
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")

EXIT_CLEAN, EXIT_FOUND, EXIT_ERROR = 0, 1, 2
T = TypeVar("T")
err = Console(stderr=True, highlight=False)
ConfigOpt = Annotated[
    Path, typer.Option("--config", "-c", help="Configuration file.", show_default=True)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


def _run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    try:
        return asyncio.run(coro_fn())  # type: ignore[arg-type]
    except CredwatchError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_ERROR) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None


def _connect_target() -> db.Target:
    target = db.resolve_target()
    if target.embedded_root is not None:
        err.print(
            f"using the embedded PostgreSQL in {target.embedded_root} "
            "(set CREDWATCH_DSN to use another server)",
            style="dim",
        )
    return target


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    config: Config
    watch: Watchlist
    key: bytes
    pool: asyncpg.Pool


async def _open(config_path: Path, *, need_key: bool = True) -> Context:
    config = load_config(config_path)
    watch = build_watchlist(config)
    key = hmac_key() if need_key else b""
    target = await asyncio.to_thread(_connect_target)
    pool = await db.open_pool(target.dsn)
    return Context(config=config, watch=watch, key=key, pool=pool)


# -- init ------------------------------------------------------------------------------------


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the example.")] = DEFAULT_CONFIG,
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example credwatch.toml."""
    if path.exists() and not force:
        err.print(f"[red]error:[/red] {path} exists (use --force to overwrite)")
        raise typer.Exit(EXIT_ERROR)
    path.write_text(EXAMPLE, encoding="utf-8")
    err.print(f"wrote {path}")


# -- demo ------------------------------------------------------------------------------------


@app.command()
def demo(
    target: Annotated[Path, typer.Argument(help="Folder to write the sample into.")] = Path("demo"),
) -> None:
    """Write a synthetic sample (config, stealer-log archive, ULP base) with planted credentials."""
    from monitor.demo import write_demo

    planted = write_demo(target)
    err.print(
        f"wrote {target}/credwatch.toml and {target}/dumps/ ({len(planted)} planted credentials)"
    )


# -- scan ------------------------------------------------------------------------------------


def sighting_json(s: Any) -> dict[str, Any]:
    from monitor.normalize import safe_url

    m = s.match
    c = m.credential
    return {
        "origin": c.origin,
        "line": c.line,
        "kind": c.kind.value,
        "login": c.login,
        "url": safe_url(c.url),
        "host": c.host,
        "cookie_name": c.cookie_name,
        "cookie_expires": c.cookie_expires.isoformat() if c.cookie_expires else None,
        "exposure_id": s.exposure_id,
        "new": s.new_exposure,
        "infected_at": c.infected_at.isoformat() if c.infected_at else None,
        "reasons": [r.value for r in m.reasons],
        "severity": m.severity.label,
        "partner": m.partner,
        "portal": m.portal,
        "secret_hint": c.secret.hint if c.secret is not None else None,
        "feed": c.feed,
    }


@app.command()
def scan(
    paths: Annotated[list[Path], typer.Argument(help="Files, folders or archives.")],
    config: ConfigOpt = DEFAULT_CONFIG,
    as_json: JsonOpt = False,
) -> None:
    """Scan files, folders and archives; store exposures; alert on new ones."""
    for p in paths:
        if not p.exists():
            err.print(f"[red]error:[/red] {p}: no such file or directory")
            raise typer.Exit(EXIT_ERROR)
    found = _run(lambda: _scan(paths, config, as_json))
    raise typer.Exit(EXIT_FOUND if found else EXIT_CLEAN)


async def _scan(paths: list[Path], config_path: Path, as_json: bool) -> int:
    from monitor.outbox import deliver

    ctx = await _open(config_path)
    notifiers = _notifiers(ctx)
    responses = _responses(ctx, tuple(n.name for n in notifiers))
    rows: list[dict[str, Any]] = []
    exposures: set[int] = set()
    problems: list[tuple[str, str]] = []
    bar = ScanProgress.start(paths) if err.is_terminal else None
    try:
        scanner = _scanner(ctx, responses, progress=bar.advance if bar else None)

        def on_sighting(s: Any) -> None:
            exposures.add(s.exposure_id)
            row = sighting_json(s)
            if as_json:
                sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
                sys.stdout.flush()
            else:
                rows.append(row)

        def on_problem(p: Any) -> None:
            problems.append((p.origin, p.reason))

        results = await scanner.scan(paths, on_sighting=on_sighting, on_problem=on_problem)
        if bar:
            bar.stop()
            bar = None
        await responses.run_due(batch=10_000)
        for n in notifiers:
            await deliver(ctx.pool, n, contacts=dict(ctx.watch.partner_contacts))
    finally:
        if bar:
            bar.stop()
        for n in notifiers:
            await n.aclose()
        await responses.aclose()
        await ctx.pool.close()
    if not as_json:
        _print_sightings(rows)
    for origin, reason in problems[:50]:
        err.print(f"[yellow]skipped[/yellow] {_safe(origin)}: {_safe(reason)}")
    if len(problems) > 50:
        err.print(f"[yellow]… {len(problems) - 50} more skipped inputs[/yellow]")
    lines = sum(r.totals.lines for r in results)
    err.print(
        f"scanned {len(results)} path(s), {lines} lines, {sum(r.totals.records for r in results)}"
        f" records; {len(exposures)} exposure(s) found; {len(problems)} input(s) skipped",
        style="dim",
    )
    return len(exposures)


class ScanProgress:
    """A byte progress bar on a terminal (never when output is piped)."""

    def __init__(self, total: int) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("scanning"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
            TimeRemainingColumn(), console=err, transient=True,
        )  # fmt: skip
        self._task = self._progress.add_task("scan", total=total or None)
        self._progress.start()

    @classmethod
    def start(cls, paths: list[Path]) -> ScanProgress:
        total = 0
        for p in paths:
            files = [p] if p.is_file() else (f for f in p.rglob("*") if f.is_file())
            total += sum(f.stat().st_size for f in files)
        return cls(total)

    def advance(self, n: int) -> None:
        self._progress.update(self._task, advance=n)

    def stop(self) -> None:
        self._progress.stop()


def _safe(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text).replace("[", "\\[")


def _print_sightings(rows: list[dict[str, Any]]) -> None:
    if not rows:
        Console().print("no exposures found")
        return
    table = Table(title="Exposures found", show_lines=False)
    for col in (
        "id",
        "new",
        "severity",
        "kind",
        "login",
        "host",
        "reasons",
        "secret",
        "infected",
        "seen at",
    ):
        table.add_column(col)
    for r in rows:
        seen = f"{r['origin']}:{r['line']}" if r["line"] else r["origin"]
        table.add_row(
            str(r["exposure_id"]),
            "yes" if r["new"] else "",
            r["severity"],
            r["kind"] + (f" {r['cookie_name']}" if r["cookie_name"] else ""),
            _safe(r["login"] or "-"),
            _safe(r["host"] or "-"),
            ",".join(r["reasons"]),
            r["secret_hint"] or "-",
            (r["infected_at"] or "")[:10] or "-",
            _safe(seen),
        )
    Console(width=200).print(table)


def _scanner(ctx: Context, responses: Any, *, progress: Any = None) -> Any:
    """The scanner every command uses: alerts on the responses' channels, policy as planner."""
    from monitor.pipeline import Scanner, default_workdir

    return Scanner(
        ctx.pool,
        ctx.config,
        ctx.watch,
        key=ctx.key,
        channels=responses.channels,
        workdir=ctx.config.scan.workdir or default_workdir(db.data_dir()),
        planner=responses,
        progress=progress,
    )


def _notifiers(ctx: Context) -> list[Any]:
    """One notifier per enabled section; the console alone when none is configured."""
    sections = ctx.config.notifiers or {"console": {}}
    return list(plugins.build_enabled(Family.NOTIFIERS, sections, os.environ).values())


def _responses(ctx: Context, channels: tuple[str, ...]) -> Any:
    from monitor.policy import PolicyConfig
    from monitor.respond import Responses

    policy = PolicyConfig.from_mapping(ctx.config.policy)
    responders = plugins.build_enabled(Family.RESPONDERS, ctx.config.responders, os.environ)
    return Responses(ctx.pool, policy, responders, channels=channels)


# -- containment -----------------------------------------------------------------------------


@app.command()
def approve(
    exposure_id: Annotated[int, typer.Argument(help="Exposure id from the alert.")],
    config: ConfigOpt = DEFAULT_CONFIG,
    by: Annotated[str, typer.Option(help="Who approves (kept in the audit trail).")] = "",
) -> None:
    """Approve the containment waiting for an exposure, and run it now."""
    _decide(exposure_id, config, by=by, reject=False, reason="")


@app.command()
def reject(
    exposure_id: Annotated[int, typer.Argument(help="Exposure id from the alert.")],
    config: ConfigOpt = DEFAULT_CONFIG,
    reason: Annotated[str, typer.Option(help="Why (kept in the audit trail).")] = "",
    by: Annotated[str, typer.Option(help="Who rejects.")] = "",
) -> None:
    """Reject the containment waiting for an exposure (it is dismissed)."""
    _decide(exposure_id, config, by=by, reject=True, reason=reason)


def _decide(exposure_id: int, config: Path, *, by: str, reject: bool, reason: str) -> None:
    from monitor.outbox import deliver

    who = by or os.environ.get("USER") or "admin"

    async def go() -> int:
        ctx = await _open(config, need_key=False)
        notifiers = _notifiers(ctx)
        responses = _responses(ctx, tuple(n.name for n in notifiers))
        try:
            count = await responses.approve(
                exposure_id, who=f"cli:{who}", reject=reject, reason=reason
            )
            if count and not reject:
                await responses.run_due(batch=10_000)
                for n in notifiers:
                    await deliver(ctx.pool, n, contacts=dict(ctx.watch.partner_contacts))
            return int(count)
        finally:
            for n in notifiers:
                await n.aclose()
            await responses.aclose()
            await ctx.pool.close()

    count = _run(go)
    if not count:
        err.print(
            f"[red]error:[/red] exposure {exposure_id} has no containment waiting for approval"
        )
        raise typer.Exit(EXIT_ERROR)
    err.print(
        f"{'rejected' if reject else 'approved'} {count} containment(s) of exposure {exposure_id}"
    )


@app.command()
def actions(
    config: ConfigOpt = DEFAULT_CONFIG,
    exposure: Annotated[int | None, typer.Option(help="Only this exposure.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 200,
    as_json: JsonOpt = False,
) -> None:
    """The containment audit trail."""
    from monitor.store.actions import list_actions

    async def go() -> list[Any]:
        ctx = await _open(config, need_key=False)
        try:
            async with ctx.pool.acquire() as conn:
                return await list_actions(conn, exposure_id=exposure, limit=limit)
        finally:
            await ctx.pool.close()

    rows = _run(go)
    items = [
        {
            "id": r.action.id,
            "exposure_id": r.action.exposure_id,
            "login": r.login,
            "host": r.host,
            "provider": r.action.provider,
            "step": r.action.step,
            "outcome": r.action.outcome.value,
            "retryable": r.action.retryable,
            "decided_by": r.action.decided_by,
            "detail": r.action.detail,
            "request_id": r.action.request_id,
            "at": r.action.created_at.isoformat(),
        }
        for r in rows
    ]
    if as_json:
        for item in items:
            print(json.dumps(item, ensure_ascii=False))
        return
    table = Table(title="Actions")
    for col in ("id", "at", "exposure", "login", "provider", "step", "outcome", "by", "detail"):
        table.add_column(col)
    for i in items:
        table.add_row(
            str(i["id"]), i["at"][:19], str(i["exposure_id"]), _safe(i["login"]), i["provider"],
            i["step"], i["outcome"] + (" (retryable)" if i["retryable"] else ""), i["decided_by"],
            _safe(i["detail"])[:80],
        )  # fmt: skip
    Console(width=200).print(table)


# -- daemon --------------------------------------------------------------------------------


def _hibp_feed(ctx: Context) -> Any:
    """The HIBP feed when `[feeds.hibp]` is configured (API key from the named variable)."""
    section = dict(ctx.config.feeds.get("hibp", {}))
    if not section or section.pop("enabled", True) is False:
        return None
    from monitor.settings import SettingError

    try:
        return plugins.build(Family.FEEDS, "hibp", section, os.environ)
    except SettingError as exc:
        raise exc.in_file(ctx.config.path) from None


def _hibp_targets(ctx: Context) -> Any:
    """What HIBP is asked about: portal hosts, partner e-mail domains, watched domains."""
    from monitor.feed import Targets
    from monitor.normalize import split_url

    return Targets(
        domains=tuple(ctx.config.domains),
        portal_hosts=tuple(sorted({split_url(p)[0] for p in ctx.config.portals})),
        partner_domains=tuple(d for p in ctx.config.partners for d in p.email_domains),
    )


@dataclass(frozen=True, slots=True)
class _TargetedFeed:
    """An API feed with its targets bound, for the daemon's `records()` polling."""

    feed: Any
    targets: Any

    def records(self) -> Any:
        return self.feed.records(self.targets)

    async def aclose(self) -> None:
        await self.feed.aclose()


async def _daemon(config_path: Path, *, watch_dir: Path | None, schedule: bool) -> None:
    import signal

    from monitor.daemon import Daemon, DaemonOptions

    ctx = await _open(config_path)
    notifiers = _notifiers(ctx)
    channels = tuple(n.name for n in notifiers)
    responses = _responses(ctx, channels)
    feed = _hibp_feed(ctx) if schedule else None
    hibp = _TargetedFeed(feed, _hibp_targets(ctx)) if feed is not None else None
    scanner = _scanner(ctx, responses)
    daemon = Daemon(
        config=ctx.config,
        pool=ctx.pool,
        scanner=scanner,
        responses=responses,
        notifiers=notifiers,
        contacts=dict(ctx.watch.partner_contacts),
        options=DaemonOptions(watch_dir=watch_dir, schedule=schedule, serve_metrics=schedule),
        hibp=hibp,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    err.print(
        f"credwatch {'serve' if schedule else 'watch'} running"
        + (f", watching {watch_dir}" if watch_dir else "")
        + (
            f", metrics on http://{ctx.config.serve.metrics_host}:{ctx.config.serve.metrics_port}"
            if schedule
            else ""
        ),
        style="dim",
    )
    try:
        await daemon.run(stop)
    finally:
        for n in notifiers:
            await n.aclose()
        await responses.aclose()
        if hibp is not None:
            await hibp.aclose()
        await ctx.pool.close()
    err.print("stopped", style="dim")


@app.command()
def serve(config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """Run as a service: nightly scans, drop folder, HIBP polling, containment, alerts, metrics."""
    cfg = _load_or_exit(config)
    _run(lambda: _daemon(config, watch_dir=cfg.serve.watch_dir, schedule=True))


@app.command()
def watch(
    folder: Annotated[Path, typer.Argument(help="Folder where dumps are dropped.")],
    config: ConfigOpt = DEFAULT_CONFIG,
) -> None:
    """Scan every file dropped in FOLDER once it is complete, exactly once, until stopped."""
    if not folder.is_dir():
        err.print(f"[red]error:[/red] {folder}: not a folder")
        raise typer.Exit(EXIT_ERROR)
    _run(lambda: _daemon(config, watch_dir=folder, schedule=False))


@app.command()
def hibp(config: ConfigOpt = DEFAULT_CONFIG, as_json: JsonOpt = False) -> None:
    """Query Have I Been Pwned now for the portals and e-mail domains; store and alert."""
    found = _run(lambda: _hibp_now(config, as_json))
    raise typer.Exit(EXIT_FOUND if found else EXIT_CLEAN)


async def _hibp_now(config_path: Path, as_json: bool) -> int:
    from monitor.errors import ConfigError
    from monitor.outbox import deliver

    ctx = await _open(config_path)
    feed = _hibp_feed(ctx)
    if feed is None:
        await ctx.pool.close()
        raise ConfigError(f"{ctx.config.path}: feeds.hibp: missing (add a [feeds.hibp] section)")
    notifiers = _notifiers(ctx)
    responses = _responses(ctx, tuple(n.name for n in notifiers))
    rows: list[dict[str, Any]] = []
    try:
        scanner = _scanner(ctx, responses)
        await scanner.ingest(
            feed.records(_hibp_targets(ctx)),
            location="hibp",
            on_sighting=lambda s: rows.append(sighting_json(s)),
        )
        await responses.run_due(batch=10_000)
        for n in notifiers:
            await deliver(ctx.pool, n, contacts=dict(ctx.watch.partner_contacts))
    finally:
        await feed.aclose()
        for n in notifiers:
            await n.aclose()
        await responses.aclose()
        await ctx.pool.close()
    if as_json:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
    else:
        _print_sightings(rows)
    return len(rows)


def _load_or_exit(config: Path) -> Config:
    try:
        return load_config(config)
    except CredwatchError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_ERROR) from None


@app.command()
def status(config: ConfigOpt = DEFAULT_CONFIG, as_json: JsonOpt = False) -> None:
    """Last scans, backlog (outbox, containments), failures."""
    from monitor.store.queries import sql

    async def go() -> dict[str, Any]:
        ctx = await _open(config, need_key=False)
        try:
            async with ctx.pool.acquire() as conn:
                backlog = dict(await conn.fetchrow(sql("status_backlog")))
                sources = [dict(r) for r in await conn.fetch(sql("status_sources"), 10)]
        finally:
            await ctx.pool.close()
        backlog["outbox"] = json.loads(backlog["outbox"])
        return {"backlog": backlog, "recent_sources": sources}

    data = _run(go)
    if as_json:
        print(json.dumps(data, default=str, ensure_ascii=False, indent=2))
        return
    b = data["backlog"]
    out = Console(width=200)
    out.print(
        f"exposures {b['exposures']} ({b['exposures_open']} open) · alerts sent {b['alerts_sent']} · "
        f"outbox {b['outbox'] or 'empty'}"
        + (f" (oldest {b['outbox_lag']:.0f}s)" if b["outbox_lag"] else "")
        + f" · containments pending {b['containments_pending']}, awaiting approval "
        f"{b['awaiting_approval']}, failed {b['containments_failed']} · failed sources "
        f"{b['sources_failed']} · lines ingested {b['lines_ingested']}"
    )
    table = Table(title="Recent sources")
    for col in ("id", "kind", "location", "status", "started", "lines", "matches", "problems"):
        table.add_column(col)
    for r in data["recent_sources"]:
        table.add_row(
            str(r["id"]), r["kind"], _safe(r["location"]), r["status"], str(r["started_at"])[:19],
            str(r["lines"]), str(r["matches"]), str(r["problems"]),
        )  # fmt: skip
    out.print(table)


@app.command()
def export(
    since: Annotated[str, typer.Option(help="ISO date or datetime (UTC when no offset).")],
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    config: ConfigOpt = DEFAULT_CONFIG,
) -> None:
    """Exposures seen since a date, for SIEM batch ingestion (hints only, never secrets)."""
    import csv
    from datetime import UTC, datetime

    from monitor.store.queries import sql

    try:
        moment = datetime.fromisoformat(since)
    except ValueError:
        err.print(f"[red]error:[/red] --since: not an ISO date: {since!r}")
        raise typer.Exit(EXIT_ERROR) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if fmt not in ("jsonl", "csv"):
        err.print("[red]error:[/red] --format: jsonl or csv")
        raise typer.Exit(EXIT_ERROR)

    async def go() -> list[Exposure]:
        ctx = await _open(config, need_key=False)
        try:
            async with ctx.pool.acquire() as conn:
                return [
                    Exposure.from_row(r) for r in await conn.fetch(sql("export_exposures"), moment)
                ]
        finally:
            await ctx.pool.close()

    items = _lookup_summary("*", _run(go))["items"]
    if fmt == "jsonl":
        for item in items:
            print(json.dumps(item, ensure_ascii=False))
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=list(items[0]) if items else ["exposure_id"])
    writer.writeheader()
    for item in items:
        writer.writerow({k: ",".join(v) if isinstance(v, list) else v for k, v in item.items()})


# -- lookup ----------------------------------------------------------------------------------


@app.command()
def lookup(
    domain: Annotated[str, typer.Argument(help="A domain, e.g. francetravail.fr")],
    config: ConfigOpt = DEFAULT_CONFIG,
    as_json: JsonOpt = False,
) -> None:
    """What the store knows about a domain: exposures on it or with e-mails under it."""
    from monitor.normalize import canonical_host

    host = canonical_host(domain.strip().removeprefix("*."))
    if not host:
        err.print(f"[red]error:[/red] not a domain: {domain!r}")
        raise typer.Exit(EXIT_ERROR)
    exposures = _run(lambda: _lookup(host, config))
    summary = _lookup_summary(host, exposures)
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        _print_lookup(summary)
    raise typer.Exit(EXIT_FOUND if exposures else EXIT_CLEAN)


async def _lookup(host: str, config_path: Path) -> list[Exposure]:
    ctx = await _open(config_path, need_key=False)
    try:
        async with ctx.pool.acquire() as conn:
            return await repo.lookup_domain(conn, host)
    finally:
        await ctx.pool.close()


def _lookup_summary(domain: str, exposures: list[Exposure]) -> dict[str, Any]:
    infected = [e.infected_at for e in exposures if e.infected_at]
    return {
        "domain": domain,
        "exposures": len(exposures),
        "accounts": sorted({e.login for e in exposures if e.login}),
        "latest_infection": max(infected).isoformat() if infected else None,
        "portals": sorted({e.portal for e in exposures if e.portal}),
        "items": [
            {
                "exposure_id": e.id,
                "kind": e.kind.value,
                "login": e.login,
                "host": e.host,
                "reasons": [r.value for r in e.reasons],
                "severity": e.severity.label,
                "status": e.status.value,
                "partner": e.partner,
                "portal": e.portal,
                "secret_hint": e.secret_hint,
                "infected_at": e.infected_at.isoformat() if e.infected_at else None,
                "first_seen": e.first_seen.isoformat(),
                "last_seen": e.last_seen.isoformat(),
                "sightings": e.sightings,
            }
            for e in exposures
        ],
    }


def _print_lookup(s: dict[str, Any]) -> None:
    out = Console(width=200)
    out.print(
        f"[bold]{s['domain']}[/bold]: {s['exposures']} exposure(s), "
        f"{len(s['accounts'])} account(s), latest infection {s['latest_infection'] or 'unknown'}"
    )
    if s["portals"]:
        out.print("portals hit: " + ", ".join(s["portals"]))
    if not s["items"]:
        return
    table = Table()
    for col in (
        "id",
        "severity",
        "status",
        "kind",
        "login",
        "host",
        "reasons",
        "secret",
        "infected",
        "sightings",
    ):
        table.add_column(col)
    for i in s["items"]:
        table.add_row(
            str(i["exposure_id"]),
            i["severity"],
            i["status"],
            i["kind"],
            _safe(i["login"] or "-"),
            _safe(i["host"] or "-"),
            ",".join(i["reasons"]),
            i["secret_hint"] or "-",
            (i["infected_at"] or "-")[:10],
            str(i["sightings"]),
        )
    out.print(table)


# -- db --------------------------------------------------------------------------------------


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending schema migrations (also done on every start)."""

    async def go() -> None:
        from monitor.store.migrate import migrate

        target = await asyncio.to_thread(_connect_target)
        await db.ensure_database(target.dsn)
        conn = await asyncpg.connect(target.dsn)
        try:
            applied = await migrate(conn)
        finally:
            await conn.close()
        err.print(f"applied: {', '.join(applied)}" if applied else "schema up to date")

    _run(go)


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostgreSQL (it is started again on demand)."""
    root = db.data_dir() / "postgres"
    stopped = embedded.stop(root)
    err.print(f"stopped {root}" if stopped else "embedded PostgreSQL is not running")


@db_app.command("where")
def db_where() -> None:
    """Print the DSN in use (password redacted)."""
    target = _connect_target()
    print(db.redact(target.dsn))


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("CREDWATCH_LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    app()


if __name__ == "__main__":
    main()
