"""Console notifier: one clean line per alert, a group printed at once as one post."""

from __future__ import annotations

import io

import pytest

from monitor.notify import can_group
from notifiers.console import ConsoleNotifier
from tests.unit.test_notify_webhook import PLANTED, make_alert

pytestmark = pytest.mark.asyncio


async def test_a_group_is_its_alerts_lines_in_one_post() -> None:
    out = io.StringIO()
    console = ConsoleNotifier(out)
    assert can_group(console)
    alerts = [make_alert(i, id=i, login=f"user{i}@gmail.com") for i in (1, 2, 3)]
    delivery = await console.send_digest(alerts)
    lines = out.getvalue().splitlines()
    assert [line.split()[2] for line in lines] == ["#1", "#2", "#3"]
    assert all(f"user{i}@gmail.com" in line for i, line in zip((1, 2, 3), lines, strict=True))
    assert delivery.detail == "printed" and delivery.ref is None
    assert PLANTED not in out.getvalue()


async def test_text_from_dumps_cannot_drive_the_terminal() -> None:
    out = io.StringIO()
    await ConsoleNotifier(out).send(make_alert(login="evil\x1b[2J@gmail.com"))
    assert "\x1b" not in out.getvalue() and "evil?[2J@gmail.com" in out.getvalue()
