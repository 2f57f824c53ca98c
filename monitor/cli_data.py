"""`credwatch export` and `credwatch purge`: the data leaving the store (SIEM events on a change
cursor) and the data deleted from it (retention)."""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from monitor import output
from monitor.cli_common import ConfigOpt, JsonOpt, _fail, _open, _run
from monitor.config_path import DEFAULT_CONFIG
from monitor.output import err

if TYPE_CHECKING:
    from monitor.retention import PurgeReport

CURSOR_PREFIX = "next cursor: "


def export(
    since: Annotated[
        str | None,
        typer.Option(
            help="Only exposures seen or decided on since this ISO date (UTC when no offset)."
        ),
    ] = None,
    since_cursor: Annotated[
        int | None,
        typer.Option(help="Only changes after this cursor (printed by the previous export)."),
    ] = None,
    cursor_file: Annotated[
        Path | None,
        typer.Option(
            help="Read the cursor from this file (none yet: everything) and store the next one there."
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    config: ConfigOpt = DEFAULT_CONFIG,
) -> None:
    """Exposures as SIEM events (ECS; hints only, never secrets), incrementally on a change
    cursor: every status, lifecycle or sighting change after the cursor, each exactly once.
    The next cursor is printed on stderr (and stored in --cursor-file)."""
    from monitor import siem

    moment = _moment(since) if since is not None else None
    if fmt not in ("jsonl", "csv"):
        raise _fail("--format: jsonl or csv")
    if since_cursor is not None and cursor_file is not None:
        raise _fail("--since-cursor and --cursor-file: give one of them")
    if since_cursor is not None and since_cursor < 0:
        raise _fail("--since-cursor: must be 0 or more")
    start = since_cursor if since_cursor is not None else _read_cursor(cursor_file)
    write = _csv_writer() if fmt == "csv" else _json_writer()

    async def go() -> int:
        async with (
            _open(config, need_key=False, with_plugins=False) as a,
            a.store.changes(cursor=start, since=moment) as changes,
        ):
            async for state in changes.states:
                write(siem.state_event(state))
            return changes.next_cursor

    next_cursor = _run(go)
    sys.stdout.flush()
    if cursor_file is not None:
        _write_cursor(cursor_file, next_cursor)
    err.print(f"{CURSOR_PREFIX}{next_cursor}", highlight=False)


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(f"--since: not an ISO date: {text!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _json_writer() -> Any:
    def write(doc: dict[str, Any]) -> None:
        print(json.dumps(doc, ensure_ascii=False, sort_keys=True))

    return write


def _csv_writer() -> Any:
    from monitor import siem

    writer = csv.DictWriter(sys.stdout, fieldnames=siem.columns())
    writer.writeheader()

    def write(doc: dict[str, Any]) -> None:
        writer.writerow({k: output.csv_cell(v) for k, v in siem.flatten(doc).items()})

    return write


def _read_cursor(path: Path | None) -> int:
    """The cursor a file holds; 0 (everything) when there is no file yet."""
    if path is None:
        return 0
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise _fail(f"--cursor-file: cannot read {path}: {exc.strerror}") from None
    if not text.isdigit():
        raise _fail(f"--cursor-file: {path} does not hold a cursor (a number): {text[:40]!r}")
    return int(text)


def _write_cursor(path: Path, cursor: int) -> None:
    """Replace the file's cursor atomically: a crash leaves the old cursor or the new one."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"{cursor}\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise _fail(f"--cursor-file: cannot write {path}: {exc.strerror}") from None


def purge(
    older_than: Annotated[
        str | None,
        typer.Option(
            help="Retention period: a number of days, weeks or years (90d, 12w, 1y); "
            "default: [retention] days."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go; delete nothing.")
    ] = False,
    config: ConfigOpt = DEFAULT_CONFIG,
    as_json: JsonOpt = False,
) -> None:
    """Delete personal data past the retention period: sightings, problems, delivered alerts,
    resolved or dismissed exposures. The audit trail keeps its facts, without personal data.
    Open and acknowledged exposures are kept."""
    from monitor import retention
    from monitor.retention import RetentionError

    try:
        period = retention.parse_duration(older_than) if older_than is not None else None
    except RetentionError as exc:
        raise _fail(f"--older-than: {exc}") from None

    async def go() -> PurgeReport:
        async with _open(config, need_key=False, with_plugins=False) as a:
            days = a.config.retention.days
            if period is None and days is None:
                raise RetentionError("give --older-than, or set [retention] days in the config")
            chosen = period if period is not None else retention.period_of_days(days or 0)
            return await retention.purge(a.store, chosen, dry_run=dry_run)

    report = _run(go)
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return
    _print_report(report)


def _print_report(report: PurgeReport) -> None:
    c = report.counts
    verb = "would delete" if report.dry_run else "deleted"
    deleted = ", ".join(f"{n} {kind}" for kind, n in c.deleted().items())
    anonymised = (
        f"{c.actions_anonymised} actions, {c.transitions_anonymised} transitions, "
        f"{c.containments_anonymised} containments"
    )
    print(f"cut-off {report.cutoff:%Y-%m-%d %H:%M} UTC: {verb} {deleted}")
    print(f"audit rows kept without personal data: {anonymised}")
    if report.counts.kept_open:
        print(
            f"{report.counts.kept_open} open or acknowledged exposure(s) not seen since the "
            "cut-off are kept: resolve or dismiss them to let them go"
        )


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("purge")(purge)
