"""The `credwatch` command line: short commands over the application object (monitor.app)."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import sys
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

# Only what the options and the start need is imported here: each command imports what it uses
# (the store, the queue, the scanner...), so `--version` or a small scan does not load the rest.
from monitor import cli_approvals, cli_data, cli_lookup, cli_report, hardening, logs, output
from monitor.cli_common import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FOUND,
    ConfigOpt,
    JsonOpt,
    RangeSizeOpt,
    _fail,
    _open,
    _run,
    starting,
)
from monitor.config_path import DEFAULT_CONFIG
from monitor.errors import CredwatchError
from monitor.lifecycle import Verb
from monitor.output import err
from monitor.suppression import Field, canonical_pattern

if TYPE_CHECKING:
    from monitor.keys import Rotation
    from monitor.lifecycle import State
    from monitor.pipeline import Sighting
    from monitor.store.records import DecisionRecord
    from monitor.suppression import Rule
    from monitor.triage_output import ExposureStory
    from monitor.types import Problem

app = typer.Typer(
    add_completion=True,
    pretty_exceptions_enable=False,  # never dump locals: they can hold leaked secrets
    no_args_is_help=True,
    help="Find an organisation's leaked credentials in stealer logs and breach corpora.\n\n"
    "Exit codes: 0 nothing found, 1 exposures found, 2 error.",
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
suppress_app = typer.Typer(
    help="Suppression rules by login, host pattern or partner.", no_args_is_help=True
)
app.add_typer(suppress_app, name="suppress")
cli_lookup.register(app)
cli_approvals.register(app)
cli_data.register(app)
cli_report.register(app)


@dataclass(slots=True)
class _Flags:
    debug: bool = False


FLAGS = _Flags()


def _version(value: bool) -> None:
    if value:
        print(f"credwatch {_installed_version()}")
        raise typer.Exit(EXIT_CLEAN)


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("credwatch")
    except PackageNotFoundError:
        return "unknown"


@app.callback()
def _options(
    log_format: Annotated[
        str | None,
        typer.Option(
            envvar=logs.FORMAT_ENV,
            help="Log lines: console or json (default: [log] format, else console).",
        ),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option(
            envvar=logs.LEVEL_ENV,
            help="DEBUG, INFO, WARNING or ERROR (default: [log] level, else WARNING).",
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Debug logs, and a traceback on a crash.")
    ] = False,
    _: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Find an organisation's leaked credentials in stealer logs and breach corpora."""
    FLAGS.debug = debug
    try:
        level = "DEBUG" if debug else log_level
        logs.choose(level=level, fmt=log_format.lower() if log_format else None)
    except ValueError as exc:
        raise _fail(str(exc)) from None


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the example.")] = DEFAULT_CONFIG,
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example credwatch.toml."""
    from monitor.example_config import EXAMPLE

    if path.exists() and not force:
        raise _fail(f"{path} exists (use --force to overwrite)")
    path.write_text(EXAMPLE, encoding="utf-8")
    err.print(f"wrote {path}")


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


@app.command("plugins")
def list_plugins(as_json: JsonOpt = False) -> None:
    """List the feeds, notifiers and responders installed, where each comes from, and if it loads."""
    from monitor import plugins

    infos = plugins.listing()
    if as_json:
        output.json_lines(output.plugin_items(infos))
    else:
        output.print_plugins(infos)
    if any(p.error for p in infos):
        raise typer.Exit(EXIT_ERROR)


@app.command()
def scan(
    paths: Annotated[list[Path], typer.Argument(help="Files, folders or archives.")],
    config: ConfigOpt = DEFAULT_CONFIG,
    as_json: JsonOpt = False,
    workers: Annotated[
        int,
        typer.Option(
            help="Local scanning processes (1: this process, the default; 0: one per core)."
        ),
    ] = 1,
    cluster: Annotated[
        bool, typer.Option(help="Queue the units for `credwatch worker`s and follow them.")
    ] = False,
    range_size: RangeSizeOpt = 0,
) -> None:
    """Scan files, folders and archives; store exposures; alert on new ones."""
    for p in paths:
        if not p.exists():
            raise _fail(f"{p}: no such file or directory")
    if workers:
        n = workers
    else:
        from monitor import proc

        n = proc.cores()
    if n == 1 and not cluster:
        found = _run(lambda: _scan(paths, config, as_json))
    else:
        paths = [p.resolve() for p in paths]  # workers may run elsewhere: absolute paths
        found = _scan_units_with(paths, config, as_json, n, cluster, range_size)
    raise typer.Exit(EXIT_FOUND if found else EXIT_CLEAN)


async def _scan(paths: list[Path], config: Path, as_json: bool) -> int:
    from monitor.shown import ScanOutput

    out = ScanOutput(as_json=as_json)
    bar = output.ScanProgress.start(paths) if err.is_terminal else None

    def on_sighting(s: Sighting) -> None:
        out.sighting(output.sighting_json(s))

    def on_problem(p: Problem) -> None:
        out.skipped.add(p.origin, p.reason)

    try:
        async with _open(config, progress=bar.advance if bar else None) as a:
            async with a.delivering():
                results = await a.scanner.scan(
                    paths, on_sighting=on_sighting, on_problem=on_problem
                )
            if bar:
                bar.stop()
                bar = None
            await a.respond_and_alert(batch=10_000)
    finally:
        if bar:
            bar.stop()
    return out.finish(
        f"scanned {len(results)} path(s), {sum(r.totals.lines for r in results)} lines, "
        f"{sum(r.totals.records for r in results)} records"
    )


def _scan_units_with(
    paths: list[Path], config: Path, as_json: bool, n: int, cluster: bool, range_size: int
) -> int:
    """The scan cut into units: drained by `n` local processes, or by the cluster's workers.
    The local processes are copies of this one (forked before anything runs: they start with
    the modules this one loaded) that serve the scan's units while this one queues them."""
    from monitor import worker

    scan_id = worker.new_scan_id()
    if not range_size:
        range_size = worker.DEFAULT_RANGE if cluster else worker.range_for(paths, n)
    local = 1 if cluster else min(n, worker.units_hint(paths, range_size))  # processes here
    procs: list[Any] = []
    if local > 1:
        worker.preload()
        lease = worker.LOCAL_LEASE
        procs = worker.fork(local - 1, lambda: _serve(config, lease, local=scan_id, share=local))
    try:
        return _run(
            lambda: _scan_units(paths, config, as_json, cluster, range_size, scan_id, local, procs)
        )
    finally:
        worker.stop(procs)


async def _scan_units(
    paths: list[Path],
    config: Path,
    as_json: bool,
    cluster: bool,
    range_size: int,
    scan_id: str,
    local: int,
    procs: list[Any],
) -> int:
    """`_scan_units_with` once its local processes are started."""
    from monitor import proc, queue, worker
    from monitor.shown import ScanOutput

    out = ScanOutput(as_json=as_json)
    entry = queue.CLUSTER if cluster else queue.local_entrypoint(scan_id)
    async with _open(config) as a:
        worker.share_cores(a, local)
        await a.scanner.enqueue(
            paths,
            scan_id=scan_id,
            entrypoint=entry,
            range_size=range_size,
            owner=None if cluster else str(proc.me()),  # local units die with this process
            # In file order: a range's lines are numbered from the count another process
            # published at the end of the range before, usually read by then.
            streams=1,
        )
        drain = worker.LocalDrain(a, entry)
        if not cluster:  # this process drains too; n - 1 more take the other units
            drain.keep_going()
        try:
            progress = await worker.follow(
                a, scan_id, out.sighting, keep_going=None if cluster else drain.keep_going
            )
        finally:
            worker.stop(procs)
            await drain.aclose()
        for origin, reason in await a.store.scan_problems(scan_id):
            out.skipped.add(origin, reason)
        await a.respond_and_alert(batch=10_000)
    return out.finish(
        f"scanned {len(paths)} path(s) in {progress.units} unit(s), {progress.lines} lines, "
        f"{progress.records} records"
    )


@app.command("worker")
def worker_cmd(
    config: ConfigOpt = DEFAULT_CONFIG,
    concurrency: Annotated[int, typer.Option(help="Scanning processes (0: one per core).")] = 0,
    lease: Annotated[
        float, typer.Option(help="Seconds without a heartbeat before a unit is taken over.")
    ] = 30.0,
    local: Annotated[str, typer.Option(hidden=True, help="Drain one local scan's units.")] = "",
    share: Annotated[
        int, typer.Option(hidden=True, help="Scanning processes sharing this host's cores.")
    ] = 0,
) -> None:
    """Take scan units from the shared database's queue (inputs on a path every worker sees)."""
    from monitor import proc, worker

    n = concurrency or proc.cores()
    if n > 1:
        procs = worker.spawn(n, worker.worker_args(config, lease=lease, local=local, share=n))
        try:
            for p in procs:
                p.wait()
        finally:
            worker.stop(procs)
        return

    _serve(config, lease, local=local, share=share)


def _serve(config: Path, lease: float, *, local: str, share: int) -> None:
    """Serve the queue in this process: the cluster's, or one local scan's units (`local`)."""
    from monitor import queue, worker

    async def go() -> None:
        async with _open(config) as a:
            worker.share_cores(a, share)
            if local:  # started with the scan: its units may not be queued yet
                await worker.until_queued(a, local)
            entry = (
                [queue.local_entrypoint(local)] if local else worker.entrypoints(a, queue.CLUSTER)
            )
            await worker.serve(a, entry, lease=lease, drain=bool(local))

    _run(go)


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
    who = by or os.environ.get("USER") or "admin"

    async def go() -> tuple[int, DecisionRecord | None]:
        async with _open(config, need_key=False) as a:
            count = await a.responses.approve(
                exposure_id, who=f"cli:{who}", reject=reject, reason=reason
            )
            if count and not reject:
                await a.respond_and_alert(batch=10_000)
            return count, None if count else await a.store.last_decision(exposure_id)

    count, before = _run(go)
    if not count:
        why = f" (already {before.outcome} by {output.safe(before.decided_by)})" if before else ""
        raise _fail(f"exposure {exposure_id} has no containment waiting for approval{why}")
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

    async def go() -> list[Any]:
        async with _open(config, need_key=False, with_plugins=False) as a:
            return await a.store.actions(exposure_id=exposure, limit=limit)

    items = output.action_items(_run(go))
    if as_json:
        output.json_lines(items)
    else:
        output.print_actions(items)


ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail).")]
ByOpt = Annotated[str, typer.Option(help="Who decides (default: $USER).")]
IdArg = Annotated[int, typer.Argument(help="Exposure id.")]


@app.command()
def show(exposure_id: IdArg, config: ConfigOpt = DEFAULT_CONFIG, as_json: JsonOpt = False) -> None:
    """One exposure: state, sightings and machines, containment actions, decisions."""
    from monitor.triage_output import ExposureStory, print_story, story_json

    async def go() -> ExposureStory | None:
        async with _open(config, need_key=False, with_plugins=False) as a:
            e, state = (
                await a.store.exposure_by_id(exposure_id),
                await a.store.lifecycle(exposure_id),
            )
            if e is None or state is None:
                return None
            return ExposureStory(exposure=e, state=state[0], state_at=state[1],
                                 sightings=await a.store.sightings(exposure_id),
                                 actions=await a.store.actions(exposure_id=exposure_id),
                                 history=await a.store.transitions(exposure_id))  # fmt: skip

    story = _run(go)
    if story is None:
        raise _fail(f"no exposure {exposure_id}")
    if as_json:
        output.json_lines([story_json(story)])
    else:
        print_story(story)


def _lifecycle(verb: Verb, exposure_id: int, config: Path, reason: str, by: str) -> None:
    from monitor import triage

    who = f"cli:{by or os.environ.get('USER') or 'admin'}"

    async def go() -> State:
        async with _open(config, need_key=False, with_plugins=False) as a:
            return await triage.decide(a.store, exposure_id, verb, who=who, reason=reason)

    err.print(f"exposure {exposure_id} is now {_run(go).value}")


@app.command()
def ack(
    exposure_id: IdArg, reason: ReasonOpt, config: ConfigOpt = DEFAULT_CONFIG, by: ByOpt = ""
) -> None:
    """Acknowledge an open exposure: someone is on it."""
    _lifecycle(Verb.ACK, exposure_id, config, reason, by)


@app.command()
def resolve(
    exposure_id: IdArg, reason: ReasonOpt, config: ConfigOpt = DEFAULT_CONFIG, by: ByOpt = ""
) -> None:
    """Resolve an exposure: the account is safe again."""
    _lifecycle(Verb.RESOLVE, exposure_id, config, reason, by)


@app.command()
def dismiss(
    exposure_id: IdArg, reason: ReasonOpt, config: ConfigOpt = DEFAULT_CONFIG, by: ByOpt = ""
) -> None:
    """Dismiss an exposure: false positive or accepted risk (say which in --reason)."""
    _lifecycle(Verb.DISMISS, exposure_id, config, reason, by)


@app.command()
def reopen(
    exposure_id: IdArg, reason: ReasonOpt, config: ConfigOpt = DEFAULT_CONFIG, by: ByOpt = ""
) -> None:
    """Reopen an acknowledged, resolved or dismissed exposure."""
    _lifecycle(Verb.REOPEN, exposure_id, config, reason, by)


@suppress_app.command("add")
def suppress_add(
    field: Annotated[Field, typer.Argument(help="login, host or partner.")],
    pattern: Annotated[
        str, typer.Argument(help="Login, host pattern (*.test.example.org) or partner name.")
    ],
    reason: ReasonOpt,
    config: ConfigOpt = DEFAULT_CONFIG,
    by: ByOpt = "",
) -> None:
    """Suppress new exposures of a login, host pattern or partner: recorded, dismissed, not alerted."""
    canonical = canonical_pattern(field, pattern)
    if not canonical or not reason.strip():
        raise _fail("a suppression rule needs a pattern and a --reason")
    who = f"cli:{by or os.environ.get('USER') or 'admin'}"

    async def go() -> int:
        async with _open(config, need_key=False, with_plugins=False) as a:
            return await a.store.add_suppression(field.value, canonical, reason.strip(), who)

    err.print(f"suppression rule {_run(go)}: {field.value} {output.safe(canonical)}")


@suppress_app.command("list")
def suppress_list(config: ConfigOpt = DEFAULT_CONFIG, as_json: JsonOpt = False) -> None:
    """The suppression rules."""
    from monitor.triage_output import print_rules

    async def go() -> list[Rule]:
        async with _open(config, need_key=False, with_plugins=False) as a:
            return await a.store.suppressions()

    rules = _run(go)
    if as_json:
        output.json_lines([{"id": r.id, "field": r.field.value, "pattern": r.pattern,
                            "reason": r.reason, "by": r.created_by} for r in rules])  # fmt: skip
    else:
        print_rules(rules)


@suppress_app.command("rm")
def suppress_rm(
    rule_id: Annotated[int, typer.Argument(help="Rule id.")], config: ConfigOpt = DEFAULT_CONFIG
) -> None:
    """Remove a suppression rule (exposures it dismissed stay dismissed)."""

    async def go() -> bool:
        async with _open(config, need_key=False, with_plugins=False) as a:
            return await a.store.remove_suppression(rule_id)

    if not _run(go):
        raise _fail(f"no suppression rule {rule_id}")
    err.print(f"suppression rule {rule_id} removed")


@app.command()
def serve(
    config: ConfigOpt = DEFAULT_CONFIG,
    metrics_host: Annotated[
        str | None,
        typer.Option(envvar="CREDWATCH_METRICS_HOST", help="Overrides [serve] metrics_host."),
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            envvar="CREDWATCH_METRICS_PORT",
            min=0,
            max=65535,
            help="Overrides [serve] metrics_port.",
        ),
    ] = None,
) -> None:
    """Run as a service: nightly scans, drop folder, HIBP polling, containment, alerts, metrics."""
    cfg = _load_or_exit(config)
    _run(
        lambda: _daemon(
            config,
            watch_dir=cfg.serve.watch_dir,
            schedule=True,
            metrics_host=metrics_host,
            metrics_port=metrics_port,
        )
    )


@app.command()
def watch(
    folder: Annotated[Path, typer.Argument(help="Folder where dumps are dropped.")],
    config: ConfigOpt = DEFAULT_CONFIG,
) -> None:
    """Scan every file dropped in FOLDER once it is complete, exactly once, until stopped."""
    if not folder.is_dir():
        raise _fail(f"{folder}: not a folder")
    _run(lambda: _daemon(config, watch_dir=folder, schedule=False))


async def _daemon(
    config: Path,
    *,
    watch_dir: Path | None,
    schedule: bool,
    metrics_host: str | None = None,
    metrics_port: int | None = None,
) -> None:
    from monitor.daemon import Daemon, DaemonOptions
    from monitor.metrics import Metrics

    metrics = Metrics()
    async with _open(config, progress=lambda _: metrics.beat()) as a:
        options = DaemonOptions(
            watch_dir=watch_dir,
            schedule=schedule,
            serve_metrics=schedule,
            metrics_host=metrics_host,
            metrics_port=metrics_port,
        )
        daemon = Daemon(
            app=a,
            options=options,
            hibp=a.api_feeds.get("hibp") if schedule else None,
            metrics=metrics,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        host, port = daemon.metrics_address
        err.print(
            f"credwatch {'serve' if schedule else 'watch'} running"
            + (f", watching {output.safe(str(watch_dir))}" if watch_dir else "")
            + (f", metrics on http://{host}:{port}" if schedule else ""),
            style="dim",
        )
        await daemon.run(stop)
    err.print("stopped", style="dim")


@app.command()
def hibp(config: ConfigOpt = DEFAULT_CONFIG, as_json: JsonOpt = False) -> None:
    """Query Have I Been Pwned now for the portals and e-mail domains; store and alert."""
    found = _run(lambda: _hibp_now(config, as_json))
    raise typer.Exit(EXIT_FOUND if found else EXIT_CLEAN)


async def _hibp_now(config: Path, as_json: bool) -> int:
    from monitor.errors import ConfigError

    rows: list[dict[str, Any]] = []
    async with _open(config) as a:
        feed = a.api_feeds.get("hibp")
        if feed is None:
            raise ConfigError(f"{a.config.path}: [feeds.hibp] missing (add a [feeds.hibp] section)")
        await a.scanner.ingest(feed, on_sighting=lambda s: rows.append(output.sighting_json(s)))
        await a.respond_and_alert(batch=10_000)
    if as_json:
        output.json_lines(rows)
    else:
        from monitor.shown import ShownSightings

        shown = ShownSightings()
        for row in rows:
            shown.add(row)
        output.print_sightings(shown)
    return len(rows)


def _load_or_exit(config: Path) -> Any:
    from monitor.config import load_config

    try:
        return load_config(config)
    except CredwatchError as exc:
        raise _fail(str(exc)) from None


@app.command()
def doctor(
    config: ConfigOpt = DEFAULT_CONFIG,
    send_test: Annotated[
        bool, typer.Option("--send-test", help="Send a test message on every notifier.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check the deployment without changing anything; exit 0 when every check is ok, else 2."""
    from monitor.doctor import Status, diagnose

    checks = _run(
        lambda: diagnose(
            config,
            env=os.environ,
            send_test=send_test,
            metrics_host=os.environ.get("CREDWATCH_METRICS_HOST") or None,
            metrics_port=_port_env(),
        )
    )
    if as_json:
        print(json.dumps(output.doctor_json(checks), ensure_ascii=False, indent=2))
    else:
        output.print_doctor(checks)
    if any(c.status is not Status.OK for c in checks):
        raise typer.Exit(EXIT_ERROR)


def _port_env() -> int | None:
    raw = os.environ.get("CREDWATCH_METRICS_PORT", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > 65535:
        raise _fail(f"CREDWATCH_METRICS_PORT: not a port number: {raw!r}")
    return int(raw)


@app.command()
def status(config: ConfigOpt = DEFAULT_CONFIG, as_json: JsonOpt = False) -> None:
    """Last scans, backlog (outbox, containments), failures."""

    async def go() -> dict[str, Any]:
        async with _open(config, need_key=False, with_plugins=False) as a:
            backlog = asdict(await a.store.backlog())
            sources = [asdict(r) for r in await a.store.recent_sources(10)]
            quarantined = [asdict(q) for q in await a.store.quarantined(20)]
            skipped = [asdict(s) for s in await a.store.skipped(10)]
            interrupted = await a.store.interrupted_count()
        return {
            "backlog": backlog,
            "interrupted": interrupted,
            "recent_sources": sources,
            "quarantined": quarantined,
            "skipped": skipped,
        }

    data = _run(go)
    if as_json:
        print(json.dumps(data, default=str, ensure_ascii=False, indent=2))
    else:
        output.print_status(data)


@app.command()
@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending schema migrations (also done on every start)."""
    from monitor.store import db

    async def go() -> list[str]:
        target = await asyncio.to_thread(db.resolve_target)
        return await db.migrate_database(target.dsn, password=target.password)

    applied = _run(go)
    err.print(f"applied: {', '.join(applied)}" if applied else "schema up to date")


@db_app.command("rotate-key")
def db_rotate_key() -> None:
    """Switch fingerprint keys: the new key in CREDWATCH_HMAC_KEY, the current one in
    CREDWATCH_HMAC_KEY_PREVIOUS. Keep giving the old key there afterwards: exposures it
    fingerprinted keep their identity (no new exposure, alert or containment)."""
    from monitor.config import hmac_key, previous_hmac_keys
    from monitor.keys import KeyRing, rotate_database
    from monitor.store import db

    async def go() -> Rotation:
        ring = KeyRing(current=hmac_key(), previous=previous_hmac_keys())
        target = await asyncio.to_thread(db.resolve_target)
        return await rotate_database(target.dsn, ring)

    done = _run(go)
    err.print(
        f"key {done.retired} retired, key {done.current} current"
        if done.changed
        else f"key {done.current} is already current"
    )


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostgreSQL (it is started again on demand)."""
    from monitor.store import db, embedded

    root = db.data_dir() / "postgres"
    stopped = embedded.stop(root)
    err.print(f"stopped {root}" if stopped else "embedded PostgreSQL is not running")


@db_app.command("where")
def db_where() -> None:
    """Print the DSN in use (password redacted)."""
    from monitor.store import db

    target = db.resolve_target()
    if target.embedded_root is not None:
        err.print(f"using the embedded PostgreSQL in {target.embedded_root}", style="dim")
    print(db.redact(target.dsn))


def main() -> None:
    """The console script: exit 0 nothing found, 1 exposures found, 2 any error or crash."""
    hardening.harden()
    starting()
    logs.configure(level="WARNING")
    try:
        app()
    except SystemExit:
        raise
    except Exception as exc:  # a crash: one clear line, the traceback only with --debug
        if FLAGS.debug:
            traceback.print_exc()
        output.error(crash_line(exc))
        sys.exit(EXIT_ERROR)
    finally:
        # The command is done and the process ends: what it built lives until then. Frozen,
        # the interpreter's shutdown does not walk it over and over (0.1 s per run otherwise).
        gc.freeze()


def crash_line(exc: BaseException) -> str:
    """What a crash prints: its type and first line (the traceback needs --debug)."""
    from monitor.store.store import ConnectionLost

    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if isinstance(exc, ConnectionLost):
        return f"database connection lost ({detail}); run the command again to finish"
    return f"unexpected error ({detail}); run with --debug for the traceback"


__all__ = ["app", "main"]

if __name__ == "__main__":
    from monitor import cli as _cli  # the importable module: its commands are all registered

    _cli.main()
