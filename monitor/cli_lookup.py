"""`credwatch lookup DOMAIN`: what leaked for any domain, from the store, the dump library and HIBP.

An ad-hoc lookup changes nothing (no exposure, sighting, source, alert, containment or
watchlist change): it reads, in this process or on workers (`--workers`, `--cluster`; see
monitor/lookup_work.py: the same answer). It is itself audited — who asked about which domain,
when, over which paths, how many results — because searching an organisation's leaks is
sensitive.
"""

from __future__ import annotations

import getpass
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from monitor import output
from monitor.cli_common import (
    EXIT_CLEAN,
    EXIT_FOUND,
    ConfigOpt,
    JsonOpt,
    RangeSizeOpt,
    _fail,
    _open,
    _run,
)
from monitor.config_path import DEFAULT_CONFIG
from monitor.normalize import canonical_host, under_domain
from monitor.output import err, safe

if TYPE_CHECKING:
    from monitor.app import App
    from monitor.domain_lookup import ApiSide, LibraryRead, LookupResult
    from monitor.feed import ApiFeed
    from monitor.store.records import LookupAudit
    from monitor.types import Match, Problem

ACTOR_ENV = "CREDWATCH_ACTOR"
HIBP = "hibp"


def actor(env: Mapping[str, str] | None = None) -> str:
    """Who is asking: $CREDWATCH_ACTOR, else the operating-system user."""
    env = os.environ if env is None else env
    named = env.get(ACTOR_ENV, "").strip()
    if named:
        return named
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


def lookup(
    domain: Annotated[str, typer.Argument(help="A domain, e.g. partner.example")],
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Read these instead of the dump library (implies --scan).", show_default=False
        ),
    ] = None,
    scan: Annotated[
        bool,
        typer.Option(
            "--scan",
            help="Also read the dump library (the sources and drop folder of serve), read-only.",
        ),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(help="Only credentials infected on or after this ISO date (UTC)."),
    ] = None,
    save_to: Annotated[
        Path | None,
        typer.Option(
            "--save",
            help="Also write the masked result: FILE.json and FILE.html (or by extension).",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            help="Local processes reading the dump library (1: this process, the default; "
            "0: one per core)."
        ),
    ] = 1,
    cluster: Annotated[
        bool,
        typer.Option(help="Have the `credwatch worker`s read the dump library, as for a scan."),
    ] = False,
    range_size: RangeSizeOpt = 0,
    config: ConfigOpt = DEFAULT_CONFIG,
    as_json: JsonOpt = False,
) -> None:
    """What leaked for any domain: employees, users and third parties, from the store, the dump
    library (read-only, with --scan or when the domain is not watched) and HIBP. Nothing is
    stored but an audit line of the lookup."""
    from monitor.lookup_output import print_result, result_json, save

    host = canonical_host(domain.strip().removeprefix("*."))
    if not host or "." not in host.strip("."):
        raise _fail(f"not a domain: {domain!r}")
    moment = _since(since)
    given = list(paths or [])
    for p in given:
        if not p.exists():
            raise _fail(f"{p}: no such file or directory")
    if workers < 0:
        raise _fail("--workers: 0 (one per core) or more")
    from monitor.proc import cores

    spread = Spread(processes=workers or cores(), cluster=cluster, range_size=range_size)
    result = _run(lambda: _lookup(host, given, scan or bool(given), moment, config, spread))
    if as_json:
        print(json.dumps(result_json(result), ensure_ascii=False, indent=2))
    else:
        print_result(result)
    if save_to is not None:
        written = save(result, save_to)
        err.print("saved " + ", ".join(safe(str(p)) for p in written), style="dim")
    raise typer.Exit(EXIT_FOUND if result.found else EXIT_CLEAN)


def _since(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise _fail(f"--since: not an ISO date: {raw!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class Spread:
    """Where the dump library is read: this process, local processes, or the cluster."""

    processes: int
    cluster: bool
    range_size: int

    @property
    def in_process(self) -> bool:
        return self.processes == 1 and not self.cluster


async def _lookup(
    domain: str,
    given: list[Path],
    scan: bool,
    since: datetime | None,
    config: Path,
    spread: Spread,
) -> LookupResult:
    # Local processes need the workers' key: this one drains units too (see monitor/lookup_work).
    need_key = not spread.in_process and not spread.cluster
    from monitor.domain_lookup import LookupResult, Tally, finding_of_sighting

    async with _open(config, need_key=need_key, with_plugins=False) as a:
        await a.store.lookup_rows().sweep()  # what lookups that died left behind
        watched = under_domain(domain, a.watch.all_domains) is not None
        if not watched and not scan:
            err.print(
                f"{safe(domain)} is not watched: the store holds only what matched the "
                "watchlist; reading the dump library too",
                style="yellow",
            )
            scan = True
        if given:
            library, note = given, ""
        elif scan:
            library, note = _library(a)
        else:
            library, note = [], "not read (use --scan)"
        lookup_id = await a.store.lookup_started(
            actor=actor(),
            domain=domain,
            scanned=bool(library),
            paths=[str(p.resolve()) for p in library],
            since=since,
        )
        store = Tally(domain, since=since)
        store.add_all(finding_of_sighting(s) for s in await a.store.domain_sightings(domain))
        read = (
            await _read(a, config, lookup_id, domain, library, since, spread) if library else None
        )
        hibp = await _hibp(a, domain)
        result = LookupResult(
            domain=domain,
            watched=watched,
            since=since,
            generated_at=datetime.now(UTC),
            store=store.summary(),
            library=read,
            library_note=note,
            hibp=hibp,
        )
        await a.store.lookup_finished(lookup_id, result.counts())
    return result


def _library(a: App) -> tuple[list[Path], str]:
    """The dump library `serve` reads: its nightly sources and its drop folder, those present."""
    serve = a.config.serve
    listed = [*serve.sources, *([serve.watch_dir] if serve.watch_dir else [])]
    if not listed:
        return [], "none configured ([serve] sources, watch_dir) and no path given"
    present = list(dict.fromkeys(p for p in listed if p.exists()))
    if not present:
        return [], "none of the configured paths exists"
    return present, ""


async def _read(
    a: App,
    config: Path,
    lookup_id: int,
    domain: str,
    paths: Sequence[Path],
    since: datetime | None,
    spread: Spread,
) -> LibraryRead:
    """The dump library read for `domain`: in this process, or by workers (same answer)."""
    shown = tuple(str(p) for p in paths)
    resolved = [p.resolve() for p in paths]  # a file is known by its resolved path, as in a scan
    if not spread.in_process:
        from monitor import lookup_work

        done = await lookup_work.read(
            a,
            config=config,
            lookup_id=lookup_id,
            domain=domain,
            paths=resolved,
            shown=shown,
            since=since,
            processes=spread.processes,
            cluster=spread.cluster,
            range_size=spread.range_size,
        )
        if done.failed:
            err.print(
                f"{done.failed} of {done.units} unit(s) of the dump library could not be read "
                f"(counted as problems): {safe(done.error or '')}",
                style="yellow",
            )
        return done.read
    return await _read_here(a, domain, resolved, shown, since)


async def _read_here(
    a: App, domain: str, paths: Sequence[Path], shown: tuple[str, ...], since: datetime | None
) -> LibraryRead:
    from monitor.domain_lookup import LibraryRead, Tally, finding_of_match
    from monitor.watchlist import domain_watchlist

    tally = Tally(domain, since=since)
    problems = 0

    def on_match(m: Match, key: bytes) -> None:
        tally.add(finding_of_match(m, key))

    def on_problem(_: Problem) -> None:
        nonlocal problems
        problems += 1

    bar = output.ScanProgress.start(list(paths)) if err.is_terminal else None
    started = time.monotonic()
    try:
        totals = await a.scanner.survey(
            paths,
            domain_watchlist(domain),
            on_match=on_match,
            on_problem=on_problem,
            progress=bar.advance if bar else None,
        )
    finally:
        if bar:
            bar.stop()
    return LibraryRead(
        paths=shown,
        lines=totals.lines,
        bytes=totals.bytes,
        records=totals.records,
        problems=problems,
        seconds=time.monotonic() - started,
        summary=tally.summary(),
    )


async def _hibp(a: App, domain: str) -> ApiSide:
    """HIBP's domain search beside the local answer, when [feeds.hibp] is configured."""
    from monitor import plugins
    from monitor.domain_lookup import ApiSide, HibpState
    from monitor.errors import CredwatchError, ProviderError
    from monitor.feed import DomainSearch
    from monitor.plugins import Family
    from monitor.settings import SettingError

    section = a.config.feeds.get(HIBP)
    if section is None or section.get("enabled", True) is False:
        return ApiSide(state=HibpState.NOT_CONFIGURED, detail="no [feeds.hibp] section")
    options: dict[str, Any] = {k: v for k, v in section.items() if k != "enabled"}
    try:
        feed: ApiFeed = plugins.build(Family.FEEDS, HIBP, options, os.environ)
    except (SettingError, CredwatchError) as exc:
        return ApiSide(state=HibpState.NOT_CONFIGURED, detail=str(exc))
    search = feed if isinstance(feed, DomainSearch) else None
    try:
        if search is None:
            return ApiSide(state=HibpState.NOT_CONFIGURED, detail="the feed has no domain search")
        answer = await search.domain_search(domain)
    except ProviderError as exc:
        return ApiSide(state=HibpState.FAILED, detail=str(exc))
    finally:
        await feed.aclose()
    if not answer.verified:
        return ApiSide(
            state=HibpState.NOT_VERIFIED,
            detail="HIBP answers only for domains verified on the key's account",
        )
    return ApiSide(state=HibpState.ANSWERED, answer=answer)


def lookups(
    config: ConfigOpt = DEFAULT_CONFIG,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The audit trail of ad-hoc lookups: who looked up which domain, when, how many results."""
    from monitor.lookup_output import audit_json, print_audit

    async def go() -> list[LookupAudit]:
        async with _open(config, need_key=False, with_plugins=False) as a:
            return await a.store.lookups(limit)

    rows = _run(go)
    if as_json:
        output.json_lines(audit_json(r) for r in rows)
    else:
        print_audit(rows)


def register(app: typer.Typer) -> None:
    app.command("lookup")(lookup)
    app.command("lookups")(lookups)
