"""Turns an Alert into words (Slack Block Kit, plain text, HTML, JSON) with hostile text made inert.

Everything read from a dump (host, login, URL, origin, cookie name, stealer family, country) is
attacker-controlled. It is stripped of control and invisible characters, capped in length and
"defanged" (`hxxps://evil[.]example`) so that no channel turns it into a link; each channel then
escapes it for its own markup. The organisation's own identifiers (its logins, domains,
portals) are shown as code, as they are, ready to paste into the identity provider. Only the
masked secret hint ever appears, never a secret.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from monitor.inert import VALUE_MAX as VALUE_MAX
from monitor.inert import Line, Span, plain, shown
from monitor.inert import clean as clean
from monitor.inert import cut as cut
from monitor.inert import defang as defang
from monitor.inert import hostile as hostile
from monitor.normalize import safe_url
from monitor.notify import Alert, AlertEvent
from monitor.types import CredentialKind, Exposure, ExposureStatus, plain_login

# Slack Block Kit limits (docs.slack.dev): header 150, section text 3000, 10 fields x 2000.
SLACK_HEADER_MAX = 150
SLACK_TEXT_MAX = 3000
SLACK_FIELD_MAX = 2000
SLACK_FIELDS_MAX = 10
SLACK_BLOCKS_MAX = 50
SLACK_FALLBACK_MAX = 600
SUBJECT_MAX = 200

ORIGIN_MAX = 500
ACTION_MAX = 1000

_MENTION = re.compile(r"(?i)@(?=(?:channel|here|everyone)\b)")
_WORD_JOINER = "\u2060"

TITLES: dict[AlertEvent, str] = {
    AlertEvent.NEW: "Leaked credential found",
    AlertEvent.UPDATED: "Leaked credential seen again",
    AlertEvent.CONTAINED: "Leaked credential contained",
    AlertEvent.NEEDS_ACTION: "Leaked credential not fully contained: action needed",
    AlertEvent.STALE: "Leaked password already changed",
    AlertEvent.APPROVAL: "Approval needed to contain a leaked credential",
    AlertEvent.FAILED: "Containment failed",
}


# --- making text inert ----------------------------------------------------------------------


def mrkdwn_escape(text: str) -> str:
    """Escape Slack mrkdwn control characters and neutralise @channel/@here/@everyone mentions."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MENTION.sub("@" + _WORD_JOINER, text)


# Slack mrkdwn has no escape for its emphasis marks, so in text from a dump each becomes a
# look-alike that Slack does not read as markup.
_MRKDWN_MARKS = str.maketrans({"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"})


def mrkdwn_inert(text: str) -> str:
    """`mrkdwn_escape`, and `*`, `_`, `~`, backticks made look-alikes: no bold, italic, strike or
    code can be opened or closed by the text."""
    return mrkdwn_escape(text).translate(_MRKDWN_MARKS)


def fit_mrkdwn(text: str, limit: int) -> str:
    """Shorten escaped mrkdwn to `limit` characters without leaving half an `&amp;` entity."""
    if len(text) <= limit:
        return text
    head = text[: max(limit - 1, 0)]
    amp = head.rfind("&", max(len(head) - 5, 0))
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    if head.count("`") % 2:
        head = head[: head.rfind("`")]
    return head + "…"


# --- what an alert says, channel-neutral ----------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Fact:
    label: str
    value: Line


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertView:
    """An alert as labelled, already-inert pieces; channels only escape and lay them out."""

    title: str
    severity: str
    headline: Line
    facts: tuple[Fact, ...]
    action: Line
    todo: tuple[Line, ...]  # what to do now (monitor.advice); empty when not known
    approve: str | None
    seen: Line
    summary: str  # one plain line: subjects, fallbacks, digests


def _t(text: str) -> Span:
    return Span(text=text)


def _c(text: str) -> Span:
    return Span(text=text, code=True)


def when(moment: datetime | None) -> str:
    """`2025-03-02 14:05 UTC`; naive datetimes are taken as UTC; None is "unknown"."""
    if moment is None:
        return "unknown"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def liveness(live: bool | None) -> str:
    if live is None:
        return "unknown (no identity provider answer yet)"
    if live:
        return "LIVE (not changed since the leak)"
    return "stale (changed after the leak)"


def _kind_words(e: Exposure) -> str:
    if e.kind is CredentialKind.COOKIE:
        return "session cookie"
    if e.kind is CredentialKind.HASH:
        return "password hash"
    if e.kind is CredentialKind.ACCOUNT:
        return "account"
    return "password"


def _what(e: Exposure) -> Line:
    spans: list[Span] = [_t(_kind_words(e))]
    if e.kind is CredentialKind.COOKIE and e.cookie_name:
        spans.append(_t(" " + hostile(e.cookie_name, 80)))
    if e.kind is CredentialKind.ACCOUNT:
        spans.append(_t(" named by an exposure source (no secret known)"))
    elif e.secret_hint:  # the hint holds the length bucket (monitor.hint), never the length
        spans += [_t(" "), _c(clean(e.secret_hint, 40))]
    if e.kind is CredentialKind.COOKIE and e.cookie_expires is not None:
        spans.append(_t(f", expires {when(e.cookie_expires)}"))
    return tuple(spans)


def login_span(e: Exposure, limit: int = 200) -> Span:
    """The leaked login: the organisation's own as code, any other defanged plain text."""
    if e.own_login:
        return _c(clean(e.login, limit))
    return _t(hostile(e.login, limit) or "(no login)")


def _account(e: Exposure) -> Line:
    login = login_span(e)
    if e.account_login and e.account_login != e.login:
        account = (
            _c(clean(e.account_login, 120))
            if plain_login(e.account_login)
            else _t(hostile(e.account_login, 120))
        )
        return (login, _t(" (monitored account "), account, _t(")"))
    if e.account_login:
        return (login, _t(" (monitored account)"))
    return (login,)


def host_span(e: Exposure, limit: int = VALUE_MAX) -> Span:
    """The host: the organisation's own as code, a foreign one defanged."""
    if e.own_host and e.host:
        return _c(clean(e.host, limit))
    return _t(hostile(e.host, limit) or "(no host)")


def _where(e: Exposure) -> Line:
    spans: list[Span] = [host_span(e, 150)]
    if e.portal:  # a portal and a watched domain come from the configuration
        spans += [_t(" · portal "), _c(clean(safe_url(e.portal), 120))]
    elif e.url:
        url = safe_url(e.url)
        if url and url != e.host:
            spans.append(_t(" · "))
            spans.append(_c(clean(url, 120)) if e.own_host else _t(hostile(url, 120)))
    if e.domain and e.domain != e.host:
        spans += [_t(" · under "), _c(clean(e.domain, 80))]
    return tuple(spans)


def _machine(alert: Alert) -> Line:
    m = alert.machine
    known = m is not None or alert.stealer_family or alert.victim_country
    if not known and alert.exposure.infected_at is None:
        return (_t("not known (no stealer log named the machine)"),)
    family = hostile(m.family if m else alert.stealer_family, 40)
    country = hostile(m.country if m else alert.victim_country, 40)
    infected = m.infected_at if m and m.infected_at else alert.exposure.infected_at
    parts = [p for p in (family or "unknown stealer", f"infected {when(infected)}", country) if p]
    spans: list[Span] = [_t(", ".join(parts))]
    if m is not None and m.tag:
        spans += [_t(" · machine "), _c(m.tag)]
    if m is not None and (m.machine_hash or m.other_credentials):
        n = m.other_credentials
        spans.append(_t(f" · {n} other credential{'s' if n != 1 else ''} of ours from it"))
    return tuple(spans)


def _gap(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return ""
    seconds = int((end - start).total_seconds())
    if seconds < 0:
        return " (before)"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f" (+{days} d {hours} h)"
    if hours:
        return f" (+{hours} h {rest // 60} min)"
    return f" (+{max(rest // 60, 0)} min)"


def _contained(e: Exposure, moment: datetime | None) -> str:
    if moment is not None:
        return when(moment)
    return "at an unrecorded time" if e.status is ExposureStatus.CONTAINED else "not yet"


def clock_text(alert: Alert) -> str:
    """infected → first seen → alerted → contained, each with the time since the one before."""
    e = alert.exposure
    c = alert.clock
    infected = c.infected_at if c else e.infected_at
    seen = c.first_seen if c and c.first_seen else e.first_seen
    alerted = c.alerted_at if c else None
    contained = c.contained_at if c else None
    return (
        f"infected {when(infected)} → first seen {when(seen)}{_gap(infected, seen)}"
        f" → alerted {when(alerted) if alerted else 'now'}{_gap(seen, alerted)}"
        f" → contained {_contained(e, contained)}{_gap(alerted, contained)}"
    )


def _todo(alert: Alert) -> tuple[Line, ...]:
    return alert.advice.todo if alert.advice is not None else ()


def describe(alert: Alert) -> AlertView:
    """The channel-neutral content of an alert."""
    e = alert.exposure
    title = TITLES.get(alert.event, "Credential exposure")
    severity = e.severity.label
    login = shown(e.login, own=e.own_login) or "(no login)"
    host = shown(e.host, own=e.own_host) or "(no host)"
    kind = _kind_words(e)
    reasons = ", ".join(r.value.replace("_", " ") for r in e.reasons) or "none"
    facts = (
        Fact(label="What leaked", value=_what(e)),
        Fact(label="Account", value=_account(e)),
        Fact(label="Partner", value=(_t(clean(e.partner, 120) or "none (own staff or unknown)"),)),
        Fact(label="Host / portal", value=_where(e)),
        Fact(label="Infected machine", value=_machine(alert)),
        Fact(label="Password status", value=(_t(liveness(alert.live)),)),
        Fact(label="Severity", value=(_t(f"{severity} (matched by {reasons})"),)),
        Fact(
            label="Seen",
            value=(
                _t(
                    f"{e.sightings} time{'s' if e.sightings != 1 else ''}, "
                    f"first {when(e.first_seen)}, last {when(e.last_seen)}"
                ),
            ),
        ),
        Fact(label="Leak clock", value=(_t(clock_text(alert)),)),
    )
    headline = (
        _t(f"{kind[0].upper()}{kind[1:]} of "),
        login_span(e),
        _t(" for "),
        host_span(e),
        _t(f". Password status: {liveness(alert.live)}."),
    )
    action_text = clean(alert.action_summary, ACTION_MAX) or "nothing yet"
    action: Line = (_t(defang(action_text)),)
    approve = clean(alert.approve_command, 200) or None
    seen = (
        _t("Seen in "),
        _t(hostile(alert.origin, ORIGIN_MAX) or "unknown"),
        _t(f" · exposure {e.id} · alert {alert.id}"),
    )
    summary = cut(
        f"{title} ({severity}): {kind} of {login} for {host}; {liveness(alert.live)}",
        SLACK_FALLBACK_MAX,
    )
    return AlertView(
        title=title,
        severity=severity,
        headline=headline,
        facts=facts,
        action=action,
        todo=_todo(alert),
        approve=approve,
        seen=seen,
        summary=summary,
    )


# --- Slack Block Kit ------------------------------------------------------------------------


def _mrkdwn(line: Line) -> str:
    out = []
    for span in line:
        if span.code:  # inside a code span only a backtick is markup
            out.append(mrkdwn_code(span.text))
        else:
            out.append(mrkdwn_inert(span.text))
    return "".join(out)


def mrkdwn_code(text: str) -> str:
    """Text as a Slack code span: only `&`, `<`, `>` escaped, a backtick made a look-alike."""
    return f"`{mrkdwn_escape(text).replace('`', 'ˋ')}`"


def slack_message(alert: Alert) -> dict[str, Any]:
    """`{"text": fallback, "blocks": [...]}` for chat.postMessage or an incoming webhook."""
    view = describe(alert)
    header = cut(f"{view.title} ({view.severity})", SLACK_HEADER_MAX)
    fields = [
        {"type": "mrkdwn", "text": fit_mrkdwn(f"*{f.label}:*\n{_mrkdwn(f.value)}", SLACK_FIELD_MAX)}
        for f in view.facts[:SLACK_FIELDS_MAX]
    ]
    action = f"*What was done:* {_mrkdwn(view.action)}"
    if view.approve:
        action += f"\n*To approve containment:* `{mrkdwn_escape(view.approve).replace('`', 'ˋ')}`"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": False}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": fit_mrkdwn(_mrkdwn(view.headline), SLACK_TEXT_MAX)},
        },
    ]
    if view.todo:
        todo = "*What to do now:*\n" + "\n".join(f"• {_mrkdwn(line)}" for line in view.todo)
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": fit_mrkdwn(todo, SLACK_TEXT_MAX)},
            }
        )
    blocks += [
        {"type": "section", "fields": fields},
        {"type": "section", "text": {"type": "mrkdwn", "text": fit_mrkdwn(action, SLACK_TEXT_MAX)}},
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": fit_mrkdwn(_mrkdwn(view.seen), SLACK_FIELD_MAX)}
            ],
        },
    ]
    return {
        "text": fit_mrkdwn(mrkdwn_inert(view.summary), SLACK_FALLBACK_MAX),
        "blocks": blocks[:SLACK_BLOCKS_MAX],
    }


# --- e-mail: subject, plain text, HTML ------------------------------------------------------


def header_safe(text: str, limit: int = SUBJECT_MAX) -> str:
    """A header value with no CR/LF or other control characters (no header injection)."""
    return clean(text, limit)


def subject(alert: Alert, prefix: str = "[credwatch]") -> str:
    e = alert.exposure
    login = shown(e.login, own=e.own_login, limit=80) or "(no login)"
    host = shown(e.host, own=e.own_host, limit=80) or "(no host)"
    title = TITLES.get(alert.event, "Credential exposure")
    return header_safe(f"{prefix} {e.severity.label.upper()}: {title}: {login} on {host}")


def text_body(alert: Alert) -> str:
    view = describe(alert)
    lines = [f"{view.title} ({view.severity})", "", plain(view.headline), ""]
    if view.todo:
        lines += ["What to do now:", *(f"- {plain(line)}" for line in view.todo), ""]
    lines += [f"{f.label}: {plain(f.value)}" for f in view.facts]
    lines += ["", f"What was done: {plain(view.action)}"]
    if view.approve:
        lines.append(f"To approve containment: {view.approve}")
    lines += ["", plain(view.seen), ""]
    return "\n".join(lines)


def _html(line: Line) -> str:
    out = []
    for span in line:
        text = html.escape(span.text, quote=True)
        out.append(f"<code>{text}</code>" if span.code else text)
    return "".join(out)


def _html_document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n"
        '<body style="font-family: sans-serif">\n'
        f"{body}\n</body></html>\n"
    )


def html_body(alert: Alert) -> str:
    view = describe(alert)
    rows = "\n".join(
        f'<tr><th align="left" valign="top">{html.escape(f.label)}</th><td>{_html(f.value)}</td></tr>'
        for f in view.facts
    )
    approve = (
        f"<p><b>To approve containment:</b> <code>{html.escape(view.approve)}</code></p>\n"
        if view.approve
        else ""
    )
    todo = (
        "<p><b>What to do now:</b></p>\n<ul>\n"
        + "".join(f"<li>{_html(line)}</li>\n" for line in view.todo)
        + "</ul>\n"
        if view.todo
        else ""
    )
    title = f"{view.title} ({view.severity})"
    body = (
        f"<h2>{html.escape(title)}</h2>\n"
        f"<p>{_html(view.headline)}</p>\n"
        f"{todo}"
        f'<table cellpadding="4">\n{rows}\n</table>\n'
        f"<p><b>What was done:</b> {_html(view.action)}</p>\n"
        f"{approve}"
        f"<p><small>{_html(view.seen)}</small></p>"
    )
    return _html_document(title, body)


def digest_subject(alerts: Sequence[Alert], prefix: str = "[credwatch]") -> str:
    worst = max((a.exposure.severity for a in alerts), default=None)
    n = len(alerts)
    highest = f" (highest: {worst.label})" if worst is not None else ""
    return header_safe(f"{prefix} {n} credential exposure alert{'s' if n != 1 else ''}{highest}")


def digest_row(alert: Alert) -> tuple[str, ...]:
    e = alert.exposure
    return (
        e.severity.label,
        TITLES.get(alert.event, "Credential exposure"),
        _kind_words(e),
        shown(e.login, own=e.own_login, limit=120) or "(no login)",
        shown(e.host, own=e.own_host, limit=120) or "(no host)",
        clean(e.partner, 80) or "-",
        when(e.infected_at),
        liveness(alert.live),
        defang(clean(alert.action_summary, 200)) or "nothing yet",
        cut(plain(_todo(alert)[0]), 300) if _todo(alert) else "-",
        str(e.id),
    )


def own_columns(alert: Alert) -> frozenset[str]:
    """The digest columns holding one of the organisation's own identifiers (shown as code)."""
    e = alert.exposure
    return frozenset(
        c for c, own in (("Login", e.own_login and e.login), ("Host", e.own_host)) if own
    )


DIGEST_COLUMNS = (
    "Severity",
    "Event",
    "Kind",
    "Login",
    "Host",
    "Partner",
    "Infected",
    "Password status",
    "What was done",
    "To do",
    "Exposure",
)


def ordered(alerts: Sequence[Alert]) -> list[Alert]:
    return sorted(alerts, key=lambda a: (-a.exposure.severity, a.exposure.id, a.id))


def digest_text(alerts: Sequence[Alert]) -> str:
    lines = [f"{len(alerts)} credential exposure alert(s)", ""]
    for i, alert in enumerate(ordered(alerts), 1):
        row = dict(zip(DIGEST_COLUMNS, digest_row(alert), strict=True))
        lines.append(
            f"{i}. [{row['Severity']}] {row['Event']}: {row['Kind']} of {row['Login']} "
            f"for {row['Host']}"
        )
        lines.append(
            f"   partner {row['Partner']}; infected {row['Infected']}; {row['Password status']}; "
            f"done: {row['What was done']}; exposure {row['Exposure']}"
        )
        if row["To do"] != "-":
            lines.append(f"   to do: {row['To do']}")
        if alert.approve_command:
            lines.append(f"   to approve: {clean(alert.approve_command, 200)}")
    lines.append("")
    return "\n".join(lines)


def _digest_html_row(alert: Alert) -> str:
    own = own_columns(alert)
    cells = (
        f"<td><code>{html.escape(v)}</code></td>" if c in own else f"<td>{html.escape(v)}</td>"
        for c, v in zip(DIGEST_COLUMNS, digest_row(alert), strict=True)
    )
    return "<tr>" + "".join(cells) + "</tr>"


def digest_html(alerts: Sequence[Alert]) -> str:
    head = "".join(f'<th align="left">{html.escape(c)}</th>' for c in DIGEST_COLUMNS)
    rows = "\n".join(_digest_html_row(a) for a in ordered(alerts))
    title = f"{len(alerts)} credential exposure alert(s)"
    body = (
        f"<h2>{html.escape(title)}</h2>\n"
        f'<table cellpadding="4" border="1" style="border-collapse: collapse">\n'
        f"<tr>{head}</tr>\n{rows}\n</table>"
    )
    return _html_document(title, body)


# --- JSON for SIEM/SOAR webhooks ------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def alert_payload(alert: Alert, *, thread_ref: str | None = None) -> dict[str, Any]:
    """The alert as JSON-ready data: raw values (receivers escape), masked hint, no secret."""
    e = alert.exposure
    return {
        "schema": "credwatch.alert/1",
        "alert_id": alert.id,
        "event": alert.event.value,
        "title": TITLES.get(alert.event, "Credential exposure"),
        "created_at": _iso(alert.created_at),
        "thread_ref": thread_ref,
        "live": alert.live,
        "action_summary": alert.action_summary,
        "approve_command": alert.approve_command,
        "origin": alert.origin,
        "partner_contact": alert.partner_contact,
        "victim_country": alert.victim_country,
        "stealer_family": alert.stealer_family,
        "exposure": {
            "id": e.id,
            "fingerprint": e.fingerprint,
            "kind": e.kind.value,
            "host": e.host,
            "url": safe_url(e.url),
            "login": e.login,
            "secret_hint": e.secret_hint,
            "secret_length": e.secret_length,
            "reasons": [r.value for r in e.reasons],
            "severity": e.severity.label,
            "status": e.status.value,
            "domain": e.domain,
            "portal": e.portal,
            "partner": e.partner,
            "account_login": e.account_login,
            "infected_at": _iso(e.infected_at),
            "first_seen": _iso(e.first_seen),
            "last_seen": _iso(e.last_seen),
            "sightings": e.sightings,
            "cookie_name": e.cookie_name,
            "cookie_expires": _iso(e.cookie_expires),
        },
    }
