"""What the CLI prints: tables for people, JSON for machines, a progress bar on terminals.

Every value that came from a dump is attacker-controlled text: `safe` makes it printable and
inert for the terminal library's markup before it reaches a table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from monitor.types import skipped

if TYPE_CHECKING:
    from rich.table import Table

    from monitor.doctor_types import Check
    from monitor.pipeline import Sighting
    from monitor.plugins import PluginInfo
    from monitor.shown import ShownSightings, SkippedInputs
    from monitor.types import Exposure

err = Console(stderr=True, highlight=False)


def error(message: str) -> None:
    """An error line on stderr; the message is printed as is (no markup)."""
    err.print("[red]error:[/red] " + safe(message), soft_wrap=True)


def sighting_json(s: Sighting) -> dict[str, Any]:
    """One sighting as the `scan --json` contract prints it (hints only, never secrets)."""
    m = s.match
    c = m.credential
    return {
        "origin": c.origin,
        "line": c.line,
        "kind": c.kind.value,
        "login": c.login,
        "url": c.url,  # cleaned where the record was built (LeakedCredential.__post_init__)
        "host": c.host,
        "cookie_name": c.cookie_name,
        "cookie_expires": c.cookie_expires.isoformat() if c.cookie_expires else None,
        "hash_algorithm": c.hash_algorithm,
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
        return cls(scan_total(paths))

    def advance(self, n: int) -> None:
        self._progress.update(self._task, advance=n)

    def stop(self) -> None:
        self._progress.stop()


def safe(text: str) -> str:
    """Printable characters only (no escape sequences), terminal-library markup escaped."""
    return escape("".join(c if c.isprintable() else "?" for c in text))


_FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: control characters dropped to `?`, and a cell
    that would start a formula (`= + - @`, tab, CR) prefixed with `'` (OWASP's advice)."""
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_LEAD):
        value = "'" + value
    return "".join(c if c.isprintable() else "?" for c in value)


def console() -> Console:
    """Standard output: the terminal's width on a terminal; one row per line when piped."""
    out = Console(highlight=False)
    if out.is_terminal:
        return out
    return Console(highlight=False, width=100_000, no_color=True)


def _table(title: str | None = None) -> Table:
    """A table; borderless when piped, so that lines stay stable for other tools."""
    from rich.table import Table  # loaded by a command that prints one

    if console().is_terminal:
        return Table(title=title)
    return Table(title=title, box=None, show_edge=False)


table = _table  # for the commands defined beside monitor.cli


def print_sightings(shown: ShownSightings) -> None:
    rows = shown.rows
    if not rows:
        console().print("no exposures found")
        return
    table = _table("Exposures found")
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
            safe(r["kind"] + (f" {r['cookie_name']}" if r["cookie_name"] else "")),
            safe(r["login"] or "-"),
            safe(r["host"] or "-"),
            ",".join(r["reasons"]),
            safe(r["secret_hint"] or "-"),
            (r["infected_at"] or "")[:10] or "-",
            safe(seen),
        )
    console().print(table)
    if shown.more:
        console().print(
            f"… and {shown.more} more sighting(s), none more severe than those above: --json"
            " lists every one, `credwatch report` the exposures"
        )


def exposure_items(exposures: list[Exposure]) -> list[dict[str, Any]]:
    """Exposures as `export` writes them (hints only, never secrets)."""
    return [
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
    ]


def print_problems(inputs: SkippedInputs) -> None:
    """One summary of what a scan skipped: a count per reason, with its first few origins."""
    print_skipped(inputs.rows)


def print_skipped(rows: Sequence[tuple[str, int, Sequence[str]]], out: Console = err) -> None:
    """`skipped inputs`, then per reason: its count and first origins (rows ranked already). An
    unknown format's input was read all the same, and its row says so."""
    if rows:
        out.print("[yellow]skipped inputs[/yellow]")
    for reason, count, origins in rows:
        reason = reason if skipped(reason) else f"{reason} (read all the same)"
        first = ", ".join(safe(o) for o in origins)
        more = f" (+{count - len(origins)} more)" if count > len(origins) else ""
        out.print(f"  {count:>6}  {safe(reason)}: {first}{more}")


def json_lines(items: Iterable[dict[str, Any]]) -> None:
    for item in items:
        print(json.dumps(item, ensure_ascii=False, default=str))


def action_items(rows: Iterable[Any]) -> list[dict[str, Any]]:
    return [
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


def print_actions(items: list[dict[str, Any]]) -> None:
    table = _table("Actions")
    for col in ("id", "at", "exposure", "login", "provider", "step", "outcome", "by", "detail"):
        table.add_column(col)
    for i in items:
        table.add_row(
            str(i["id"]), i["at"][:19],
            "purged" if i["exposure_id"] is None else str(i["exposure_id"]), safe(i["login"]),
            safe(i["provider"]), safe(i["step"]),
            i["outcome"] + (" (retryable)" if i["retryable"] else ""), safe(i["decided_by"]),
            safe(i["detail"][:80]),
        )  # fmt: skip
    console().print(table)


def print_status(data: dict[str, Any]) -> None:
    b = data["backlog"]
    out = console()
    out.print(
        f"exposures {b['exposures']} ({b['exposures_open']} open) · alerts sent {b['alerts_sent']} · "
        f"outbox {b['outbox'] or 'empty'}"
        + (f" (oldest {b['outbox_lag']:.0f}s)" if b["outbox_lag"] else "")
        + (f" · alerts dead-lettered {b['alerts_dead']}" if b.get("alerts_dead") else "")
        + f" · containments pending {b['containments_pending']}, awaiting approval "
        f"{b['awaiting_approval']}, failed {b['containments_failed']} · failed sources "
        f"{b['sources_failed']} · lines ingested {b['lines_ingested']}"
        + (f" · dropped files quarantined {b['quarantined']}" if b.get("quarantined") else "")
        + (
            f" · sources interrupted {data['interrupted']} (their process stopped)"
            if data.get("interrupted")
            else ""
        )
    )
    table = _table("Recent sources")
    for col in ("id", "kind", "location", "status", "started", "lines", "matches", "problems"):
        table.add_column(col)
    for r in data["recent_sources"]:
        table.add_row(
            str(r["id"]), r["kind"], safe(r["location"]), r["status"], str(r["started_at"])[:19],
            str(r["lines"]), str(r["matches"]), str(r["problems"]),
        )  # fmt: skip
    out.print(table)
    if data.get("quarantined"):
        from rich.table import Table

        quarantine = Table(title="Quarantined dropped files")
        for col in ("location", "attempts", "reason", "since"):
            quarantine.add_column(col)
        for q in data["quarantined"]:
            quarantine.add_row(
                safe(q["location"]), str(q["attempts"]), safe(q["reason"] or ""),
                str(q["quarantined_at"])[:19],
            )  # fmt: skip
        out.print(quarantine)
    skipped = data.get("skipped") or []
    print_skipped([(s["reason"], s["count"], s["origins"]) for s in skipped], out)


def print_plugins(infos: Sequence[PluginInfo]) -> None:
    table = _table("Plug-ins")
    for col in ("family", "name", "from", "target", "status"):
        table.add_column(col)
    for p in infos:
        status = f"[red]failed[/red]: {safe(p.error)}" if p.error else "loaded"
        table.add_row(p.family.value, p.name, safe(p.distribution), safe(p.target), status)
    console().print(table)


def plugin_items(infos: Sequence[PluginInfo]) -> list[dict[str, Any]]:
    return [
        {
            "family": p.family.value,
            "name": p.name,
            "distribution": p.distribution,
            "target": p.target,
            "loaded": p.error is None,
            "error": p.error,
        }
        for p in infos
    ]


_STATUS_STYLE = {"ok": "green", "warning": "yellow", "failed": "red"}


def print_doctor(checks: Sequence[Check]) -> None:
    """One line per check: status, name, what was found and, when not ok, what to do."""
    out = console()
    width = max((len(c.name) for c in checks), default=0)
    for c in checks:
        style = _STATUS_STYLE[c.status.value]
        fix = f" -> {safe(c.fix)}" if c.fix and c.status.value != "ok" else ""
        out.print(
            f"[{style}]{c.status.value:<7}[/{style}] {safe(c.name):<{width}}  {safe(c.detail)}{fix}",
            soft_wrap=True,
        )


def doctor_json(checks: Sequence[Check]) -> dict[str, Any]:
    return {
        "ok": all(c.status.value == "ok" for c in checks),
        "checks": [
            {"name": c.name, "status": c.status.value, "detail": c.detail, "fix": c.fix}
            for c in checks
        ],
    }


def scan_total(paths: Sequence[Path]) -> int:
    """Bytes under the given paths, for the progress bar."""
    total = 0
    for p in paths:
        files = [p] if p.is_file() else (f for f in p.rglob("*") if f.is_file())
        total += sum(f.stat().st_size for f in files)
    return total
