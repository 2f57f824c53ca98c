"""What a partner's security contact is told about their own users' leaked credentials: the same
words in the e-mail to them and in `credwatch report --partner`.

Written for them: what leaked, from which machine and when, what we did, what they must do. It
carries none of our internals — no exposure or alert ids, no commands, no file names or paths
from the dumps, no secret hint, no other partner's data — and every value from a dump is made
inert as in any alert (monitor.inert); their logins and our portals are shown as code.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.advice import Advice
from monitor.inert import Line, Span, clean, cut, hostile, plain, shown
from monitor.normalize import safe_url
from monitor.notify import Alert, Machine
from monitor.types import CredentialKind, Exposure

SUBJECT_MAX = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class PartnerItem:
    """One leaked credential of the partner's, as they read it."""

    what: Line
    machine: str
    machine_key: str | None  # groups one machine's credentials; never shown
    seen: str
    done: str
    todo: tuple[Line, ...]


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "unknown"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _kind(e: Exposure) -> str:
    return {
        CredentialKind.COOKIE: "A session cookie",
        CredentialKind.HASH: "A password hash",
        CredentialKind.ACCOUNT: "The account (named by a breach source; no password known)",
    }.get(e.kind, "The password")


def _what(e: Exposure) -> Line:
    login = shown(e.login, own=e.own_login, limit=200) or "(no login)"
    spans: list[Span] = [Span(text=f"{_kind(e)} of "), Span(text=login, code=True)]
    if e.portal:
        spans += [
            Span(text=" for our portal "),
            Span(text=clean(safe_url(e.portal), 120), code=True),
        ]
    elif e.host:
        host = shown(e.host, own=e.own_host, limit=150)
        spans += [Span(text=" for "), Span(text=host, code=e.own_host)]
    if e.kind is CredentialKind.COOKIE and e.cookie_expires is not None:
        spans.append(Span(text=f", valid until {_when(e.cookie_expires)}"))
    return tuple(spans)


def _machine(machine: Machine | None, infected_at: datetime | None) -> str:
    if machine is None:
        if infected_at is None:
            return "not known (a breach corpus or a combo list, not a stealer log)"
        return f"an infected machine, infected {_when(infected_at)}"
    family = hostile(machine.family, 40)
    country = hostile(machine.country, 40)
    parts = [
        f"infected by {family} stealer malware" if family else "infected by stealer malware",
        f"on {_when(machine.infected_at or infected_at)}",
    ]
    if country:
        parts.append(f"in {country}")
    return "a machine " + " ".join(parts)


def item(exposure: Exposure, machine: Machine | None, advice: Advice) -> PartnerItem:
    """One exposure of the partner's, in their words."""
    return PartnerItem(
        what=_what(exposure),
        machine=_machine(machine, exposure.infected_at),
        machine_key=machine.machine_hash if machine else None,
        seen=_when(exposure.first_seen),
        done=advice.partner_done,
        todo=advice.partner_todo,
    )


def from_alert(alert: Alert) -> PartnerItem | None:
    """The partner's view of an alert; None when the alert carries no recorded advice."""
    if alert.advice is None or not alert.exposure.partner:
        return None
    return item(alert.exposure, alert.machine, alert.advice)


def subject(partner: str, items: Sequence[PartnerItem]) -> str:
    n = len(items)
    what = "a credential" if n == 1 else f"{n} credentials"
    return cut(
        f"Security notice for {clean(partner, 80)}: {what} of your users leaked", SUBJECT_MAX
    )


def _intro(partner: str, items: Sequence[PartnerItem], since: datetime | None) -> str:
    machines = {i.machine_key for i in items if i.machine_key}
    period = f" since {_when(since)}" if since else ""
    source = f", from {len(machines)} infected machine(s)" if machines else ""
    return (
        f"We found {len(items)} credential(s) of {clean(partner, 80)} users{period} in "
        f"criminal data (stealer logs or breach corpora){source}. Each entry below says what "
        "leaked, from which machine and when, what we did on our side, and what you need to do."
    )


def text(partner: str, items: Sequence[PartnerItem], *, since: datetime | None = None) -> str:
    """The plain-text message."""
    lines = [subject(partner, items), "", _intro(partner, items, since), ""]
    for n, i in enumerate(items, 1):
        lines += [
            f"{n}. {plain(i.what)}",
            f"   From: {i.machine}",
            f"   First seen: {i.seen}",
            f"   What we did: {i.done}",
            "   What you need to do:",
            *(f"   - {plain(t)}" for t in i.todo),
            "",
        ]
    return "\n".join(lines)


def _html(line: Line) -> str:
    return "".join(
        f"<code>{html.escape(s.text)}</code>" if s.code else html.escape(s.text) for s in line
    )


def html_document(
    partner: str, items: Sequence[PartnerItem], *, since: datetime | None = None
) -> str:
    """The HTML message, and the report `credwatch report --partner` writes."""
    title = html.escape(subject(partner, items))
    entries = "\n".join(
        "<li>"
        f"<p><b>{_html(i.what)}</b></p>\n<ul>\n"
        f"<li>From: {html.escape(i.machine)}</li>\n"
        f"<li>First seen: {html.escape(i.seen)}</li>\n"
        f"<li>What we did: {html.escape(i.done)}</li>\n"
        "<li>What you need to do:<ul>\n"
        + "".join(f"<li>{_html(t)}</li>\n" for t in i.todo)
        + "</ul></li>\n</ul>\n</li>"
        for i in items
    )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{title}</title></head>\n"
        '<body style="font-family: sans-serif">\n'
        f"<h2>{title}</h2>\n<p>{html.escape(_intro(partner, items, since))}</p>\n"
        f"<ol>\n{entries}\n</ol>\n</body></html>\n"
    )
