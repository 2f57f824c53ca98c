"""A lookup's answer for people (a report that fits 80 columns), machines (stable JSON) and files.

Every value from a dump (host, login, URL, origin, family) is attacker-controlled: `safe` makes
it inert for the terminal and the HTML export alike. No secret is in a lookup's result at all.
"""

from __future__ import annotations

import io
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from monitor.domain_lookup import (
    SCHEMA_VERSION,
    WINDOW_UNKNOWN,
    HibpState,
    LibraryRead,
    LookupResult,
    Ranked,
    Role,
    Summary,
)
from monitor.output import safe
from monitor.store.records import LookupAudit

ROLE_LABEL = {Role.EMPLOYEE: "employees", Role.USER: "users", Role.THIRD_PARTY: "third parties"}
ROLE_ONE = {Role.EMPLOYEE: "employee", Role.USER: "user", Role.THIRD_PARTY: "third party"}
SHOWN = 10  # rows of each list in the report (the JSON keeps its own caps)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _pairs(ranked: Ranked, key: str, value: str = "sightings") -> list[dict[str, Any]]:
    return [{key: name, value: count} for name, count in ranked]


def summary_json(s: Summary) -> dict[str, Any]:
    return {
        "sightings": s.sightings,
        "credentials": s.credentials,
        "accounts": s.accounts,
        "roles": {
            r.value: {"credentials": s.roles[r].credentials, "accounts": s.roles[r].accounts}
            for r in Role
        },
        "no_login": s.no_login,
        "machines": s.machines,
        "infections": {
            "first": _iso(s.first_infection),
            "latest": _iso(s.latest_infection),
            "undated": s.undated,
            "by_month": _pairs(s.by_month, "month"),
        },
        "families": _pairs(s.families, "family"),
        "countries": _pairs(s.countries, "country"),
        "hosts": _pairs(s.hosts, "host"),
        "portals": _pairs(s.portals, "url"),
        "origins": _pairs(s.origins, "file"),
        "third_party_domains": _pairs(s.third_party_domains, "domain", "accounts"),
        "top_accounts": [
            {"login": a.login, "role": a.role.value, "credentials": a.credentials}
            for a in s.top_accounts
        ],
        "left_out": {"before_since": s.before_since, "undated": s.undated_left_out},
    }


def _library_json(lib: LibraryRead) -> dict[str, Any]:
    return {
        "paths": list(lib.paths),
        "lines": lib.lines,
        "bytes": lib.bytes,
        "records": lib.records,
        "problems": lib.problems,
        "seconds": round(lib.seconds, 3),
        "summary": summary_json(lib.summary),
    }


def result_json(r: LookupResult) -> dict[str, Any]:
    """The stable JSON answer (its schema: monitor/lookup_schema.json)."""
    answer = r.hibp.answer
    return {
        "schema_version": SCHEMA_VERSION,
        "domain": r.domain,
        "watched": r.watched,
        "since": _iso(r.since),
        "generated_at": r.generated_at.isoformat(),
        "store": summary_json(r.store),
        "library": _library_json(r.library) if r.library is not None else None,
        "library_note": r.library_note or None,
        "hibp": {
            "state": r.hibp.state.value,
            "detail": r.hibp.detail or None,
            "accounts": answer.accounts if answer else None,
            "breaches": [{"name": n, "accounts": c} for n, c in answer.breaches] if answer else [],
            "stealer_log_accounts": answer.stealer_log_accounts if answer else None,
        },
        "password_change_window": {"within": None, "known": False, "note": WINDOW_UNKNOWN},
    }


def report_console(*, file: io.StringIO | None = None, record: bool = False) -> Console:
    """Standard output at the terminal's width ($COLUMNS, else 80 when piped)."""
    width = None if file is None else 100
    return Console(highlight=False, file=file, record=record, width=width, soft_wrap=False)


def print_result(r: LookupResult, out: Console | None = None) -> None:
    out = out or report_console()
    where = "watched" if r.watched else "not watched"
    out.print(f"[bold]{safe(r.domain)}[/bold] ({where})", overflow="fold")
    if r.since is not None:
        out.print(f"infected since {r.since.date().isoformat()}")
    out.print(_roles_table(r))
    sides: list[tuple[str, Summary]] = [("store", r.store)]
    if r.library is not None:
        lib = r.library
        out.print(
            f"dump library: {len(lib.paths)} path(s), {lib.lines:,} lines, "
            f"{lib.records:,} records, {lib.problems} skipped, {lib.seconds:.1f} s",
            overflow="fold",
        )
        sides.append(("dump library", lib.summary))
    elif r.library_note:
        out.print(f"dump library: {safe(r.library_note)}", overflow="fold")
    for title, s in sides:
        if s.found:
            _print_side(out, title, s)
    out.print(f"password-change window: {WINDOW_UNKNOWN}", overflow="fold")
    out.print(_hibp_line(r), overflow="fold")


def _roles_table(r: LookupResult) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("")
    sides = [("store", r.store)]
    if r.library is not None:
        sides.append(("library", r.library.summary))
    for name, _ in sides:
        table.add_column(f"{name}\ncredentials", justify="right")
        table.add_column(f"{name}\naccounts", justify="right")
    for role in Role:
        table.add_row(
            ROLE_LABEL[role],
            *(
                v
                for _, s in sides
                for v in (str(s.roles[role].credentials), str(s.roles[role].accounts))
            ),
        )
    table.add_row("without login", *(v for _, s in sides for v in (str(s.no_login), "")))
    table.add_row("total", *(v for _, s in sides for v in (str(s.credentials), str(s.accounts))))
    return table


def _print_side(out: Console, title: str, s: Summary) -> None:
    out.rule(f"[bold]{title}[/bold]", align="left")
    first = s.first_infection.date().isoformat() if s.first_infection else "unknown"
    latest = s.latest_infection.date().isoformat() if s.latest_infection else "unknown"
    out.print(
        f"infected machines {s.machines}; infections first {first}, latest {latest}"
        + (f", {s.undated} sighting(s) undated" if s.undated else ""),
        overflow="fold",
    )
    if s.before_since or s.undated_left_out:
        out.print(
            f"left out by --since: {s.before_since} older, {s.undated_left_out} undated",
            overflow="fold",
        )
    for label, ranked in (
        ("by month", s.by_month),
        ("families", s.families),
        ("countries", s.countries),
    ):
        if ranked:
            out.print(
                f"{label}: " + ", ".join(f"{safe(k)} {v}" for k, v in ranked), overflow="fold"
            )
    _ranked_table(out, "host", s.hosts)
    _ranked_table(out, "portal (masked)", s.portals)
    _ranked_table(out, "third-party domain", s.third_party_domains, "accounts")
    if s.top_accounts:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        table.add_column("account", overflow="fold", ratio=3)
        table.add_column("role", ratio=1)
        table.add_column("credentials", justify="right")
        for a in s.top_accounts[:SHOWN]:
            table.add_row(safe(a.login), ROLE_ONE[a.role], str(a.credentials))
        out.print(table)
    _ranked_table(out, "origin (file)", s.origins)


def _ranked_table(out: Console, label: str, ranked: Ranked, count: str = "sightings") -> None:
    if not ranked:
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column(label, overflow="fold", ratio=1)
    table.add_column(count, justify="right")
    for name, n in ranked[:SHOWN]:
        table.add_row(safe(name), str(n))
    out.print(table)


def _hibp_line(r: LookupResult) -> str:
    side = r.hibp
    if side.state is HibpState.ANSWERED and side.answer is not None:
        a = side.answer
        names = ", ".join(f"{safe(n)} {c}" for n, c in a.breaches[:SHOWN])
        stealer = (
            f"; {a.stealer_log_accounts} address(es) in stealer logs"
            if a.stealer_log_accounts is not None
            else ""
        )
        return f"HIBP: {a.accounts} address(es) in breaches{stealer}" + (
            f" ({names})" if names else ""
        )
    return f"HIBP: {side.state.value.replace('_', ' ')}" + (
        f" ({safe(side.detail)})" if side.detail else ""
    )


def save(r: LookupResult, target: Path) -> list[Path]:
    """Write the result as JSON and HTML: `X.json` / `X.html` by extension, else both next to
    `X`. Owner-only files: a lookup names people."""
    suffix = target.suffix.lower()
    written: list[Path] = []
    if suffix in (".json", ".html"):
        wanted = [target]
    else:
        wanted = [target.with_name(target.name + ".json"), target.with_name(target.name + ".html")]
    for path in wanted:
        if path.suffix.lower() == ".json":
            text = json.dumps(result_json(r), ensure_ascii=False, indent=2) + "\n"
        else:
            buffer = io.StringIO()
            console = report_console(file=buffer, record=True)
            print_result(r, console)
            text = console.export_html(inline_styles=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        written.append(path)
    return written


def audit_json(a: LookupAudit) -> dict[str, Any]:
    return {
        "id": a.id,
        "actor": a.actor,
        "domain": a.domain,
        "scanned": a.scanned,
        "paths": list(a.paths),
        "since": _iso(a.since),
        "started_at": a.started_at.isoformat(),
        "finished_at": _iso(a.finished_at),
        "counts": dict(a.counts),
    }


def print_audit(rows: list[LookupAudit]) -> None:
    out = report_console()
    if not rows:
        out.print("no lookup recorded")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("at", no_wrap=True)
    table.add_column("who", overflow="fold")
    table.add_column("domain", overflow="fold")
    table.add_column("read", no_wrap=True)
    table.add_column("store", justify="right")
    table.add_column("library", justify="right")
    for a in rows:
        c = a.counts
        done = a.finished_at is not None
        table.add_row(
            f"{a.started_at:%Y-%m-%d %H:%M}",
            safe(a.actor),
            safe(a.domain),
            f"{len(a.paths)} path(s)" if a.scanned else "store",
            str(c.get("store_credentials", 0)) if done else "interrupted",
            str(c.get("library_credentials", 0)) if done and a.scanned else "",
        )
    out.print(table)
