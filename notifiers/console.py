"""Console notifier: one readable line per alert on standard error (standard output stays for data)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self, TextIO

from monitor.inert import plain
from monitor.notify import Alert, Delivery
from monitor.settings import Section, load_section

SECTION = "notifiers.console"


class ConsoleSection(Section):
    """`[notifiers.console]` has no options."""


def _clean(text: str) -> str:
    """Drop control characters: text from dumps must not drive the terminal."""
    if text.isprintable():  # the common case, checked in C
        return text
    return "".join(c if c.isprintable() else "?" for c in text)


class ConsoleNotifier:
    name: ClassVar[str] = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    @classmethod
    def from_config(cls, section: Mapping[str, Any], env: Mapping[str, str]) -> Self:
        load_section(ConsoleSection, section, section=SECTION)
        return cls()

    async def send(self, alert: Alert, *, thread_ref: str | None = None) -> Delivery:
        return self._print([alert])

    async def send_digest(self, alerts: Sequence[Alert]) -> Delivery:
        """A group is its alerts' lines, printed at once (and recorded as one post)."""
        return self._print(alerts)

    def _print(self, alerts: Sequence[Alert]) -> Delivery:
        stream = self._stream or sys.stderr
        print("\n".join(_clean(_line(a)) for a in alerts), file=stream, flush=True)
        return Delivery(ref=None, detail="printed")

    async def aclose(self) -> None:
        return None


def _line(alert: Alert) -> str:
    """One alert as one line."""
    e = alert.exposure
    who = e.login or "(no login)"
    where = e.portal or e.host or "(no host)"
    reasons = ",".join(r.value for r in e.reasons)
    secret = f" secret {e.secret_hint}" if e.secret_hint else ""
    partner = f" partner {e.partner!r}" if e.partner else ""
    inf = f" infected {e.infected_at:%Y-%m-%d}" if e.infected_at else ""
    line = (
        f"[{alert.event.value.upper()}] exposure #{e.id} {e.severity.label} {e.kind.value} "
        f"{who} @ {where} ({reasons}){partner}{secret}{inf} seen {alert.origin}"
    )
    if alert.action_summary:
        line += f" — {alert.action_summary}"
    if alert.advice is not None and alert.advice.todo:
        line += " — to do: " + " ".join(plain(t) for t in alert.advice.todo)
    return line
