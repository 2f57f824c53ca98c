"""The firing a nightly run belongs to: the cron's time in its zone, whenever the job ran."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.scheduler import cron_trigger, scheduled_time

PARIS = ZoneInfo("Europe/Paris")


def test_the_slot_is_the_latest_firing_at_or_before_now() -> None:
    trigger = cron_trigger("0 2 * * *", "Europe/Paris")
    at_two = datetime(2026, 12, 1, 2, 0, tzinfo=PARIS)
    assert scheduled_time(trigger, at_two) == at_two
    assert scheduled_time(trigger, at_two + timedelta(milliseconds=300)) == at_two
    assert scheduled_time(trigger, at_two + timedelta(minutes=50)) == at_two  # a late run
    assert scheduled_time(trigger, at_two - timedelta(seconds=1)) == at_two - timedelta(days=1)


def test_the_slot_keeps_its_local_time_across_a_daylight_saving_change() -> None:
    trigger = cron_trigger("30 3 * * *", "Europe/Paris")
    # 2026-03-29: clocks go from 02:00 to 03:00 in Paris; 03:30 local is 01:30 UTC.
    now = datetime(2026, 3, 29, 3, 45, tzinfo=PARIS)
    slot = scheduled_time(trigger, now)
    assert slot.astimezone(ZoneInfo("UTC")).hour == 1 and slot.minute == 30
    before = scheduled_time(trigger, datetime(2026, 3, 28, 23, 0, tzinfo=PARIS))
    assert before.astimezone(ZoneInfo("UTC")).hour == 2  # 03:30 in winter time


def test_two_processes_compute_the_same_slot_from_different_moments() -> None:
    trigger = cron_trigger("*/3 * * * * *", "UTC")
    base = datetime(2026, 12, 1, 12, 0, 0, tzinfo=ZoneInfo("UTC"))
    slots = {scheduled_time(trigger, base + timedelta(milliseconds=ms)) for ms in (5, 900, 2999)}
    assert slots == {base}
