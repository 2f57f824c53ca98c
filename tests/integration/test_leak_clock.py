"""The leak clock: infected → first seen → alerted → contained, in the alert and as Prometheus
histograms observed once per exposure, whatever is retried or scanned again."""

from __future__ import annotations

import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import asyncpg
from prometheus_client import Histogram, generate_latest

from feeds.reader import FileFeed
from monitor import leak_clock
from monitor.advice import Situation
from monitor.config import load_config
from monitor.inert import plain
from monitor.metrics import Metrics
from monitor.notify import Alert, Delivery
from monitor.outbox import deliver
from monitor.pipeline import Scanner
from monitor.policy import PolicyConfig
from monitor.respond import Responses
from monitor.store.store import Store
from monitor.watchlist import build_watchlist
from tests.conftest import TEST_KEY
from tests.unit.test_containment import ScriptedResponder, user

PORTAL = "https://portail-partenaire.francetravail.fr/kairos"
INFECTED = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


class Inbox:
    """A channel in memory that keeps every alert it accepted."""

    name: ClassVar[str] = "inbox"

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    async def send(self, alert: Alert, *, thread_ref: str | None = None) -> Delivery:
        self.alerts.append(alert)
        return Delivery(ref=f"m{alert.id}")

    async def aclose(self) -> None:
        return None


def counts() -> tuple[float, float, float]:
    def count(h: Histogram) -> float:
        return next(s.value for m in h.collect() for s in m.samples if s.name.endswith("_count"))

    return count(leak_clock.SEEN), count(leak_clock.ALERTED), count(leak_clock.CONTAINED)


def write_dump(folder: Path) -> None:
    folder.mkdir()
    victim = "FR[ABCDEF0123456789] [2026-03-01T08_00_00.0000000+00_00]"
    with zipfile.ZipFile(folder / "log.zip", "w") as zf:
        zf.writestr(
            f"{victim}/Passwords.txt",
            f"URL: {PORTAL}/login\nUsername: partner1@gmail.com\nPassword: Leaked#Clock1\n",
        )
        zf.writestr(
            f"{victim}/UserInformation.txt",
            "HWID: ABCDEF0123456789\nCountry: FR\nLog date: 3/1/2026 8:00:00 AM\n",
        )


async def test_each_moment_is_observed_once_per_exposure(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    write_dump(tmp_path / "dumps")
    cfg = tmp_path / "credwatch.toml"
    cfg.write_text(
        f'[organisation]\nname = "FT"\ndomains = ["francetravail.fr"]\nportals = ["{PORTAL}"]\n'
        '[accounts]\nlogins = ["partner1@gmail.com"]\n[policy]\nenforce = true\n'
    )
    config = load_config(cfg)
    store = Store(pool)
    responder = ScriptedResponder(user=user())
    responses = Responses(
        store, PolicyConfig.from_mapping(config.policy), {"fake": responder}, channels=("inbox",)
    )
    scanner = Scanner(
        store, config, build_watchlist(config), feed=FileFeed(), key=TEST_KEY,
        channels=["inbox"], workdir=workdir, planner=responses,
    )  # fmt: skip
    inbox = Inbox()
    before = counts()

    await scanner.scan([tmp_path / "dumps"])
    assert counts()[0] == before[0] + 1  # first seen after the infection
    await deliver(store, inbox)
    assert counts()[1] == before[1] + 1  # alerted after first seen
    (first,) = inbox.alerts
    assert first.advice is not None and first.advice.situation is Situation.UNDER_WAY
    assert first.machine is not None and first.machine.infected_at == INFECTED
    assert first.machine.tag is not None and "ABCDEF" not in first.machine.tag
    assert first.clock is not None and first.clock.alerted_at is None  # marked on delivery

    await responses.run_due()
    assert counts()[2] == before[2] + 1  # contained after alerted
    await deliver(store, inbox)
    follow = inbox.alerts[-1]
    assert follow.event.value == "contained"
    assert follow.advice is not None and follow.advice.situation is Situation.CONTAINED
    assert plain(follow.advice.todo[0]).startswith("Nothing more to do: leaked password replaced")
    clock = follow.clock
    assert clock is not None and clock.infected_at == INFECTED
    assert clock.alerted_at is not None and clock.contained_at is not None
    assert clock.first_seen is not None
    assert clock.infected_at <= clock.first_seen <= clock.alerted_at <= clock.contained_at

    # Again: the same dump under another name, more deliveries, another containment round.
    shutil.copytree(tmp_path / "dumps", tmp_path / "again")
    await scanner.scan([tmp_path / "again"])
    await deliver(store, inbox)
    await responses.run_due()
    async with store.transaction() as tx:
        assert await tx.mark_contained(first.exposure.id) is None
    assert counts() == (before[0] + 1, before[1] + 1, before[2] + 1)

    exported = generate_latest(Metrics().registry).decode()
    for name in (
        "credwatch_leak_seen_after_infection_seconds_bucket",
        "credwatch_leak_alerted_after_seen_seconds_count",
        "credwatch_leak_contained_after_alerted_seconds_sum",
    ):
        assert name in exported


async def test_contained_before_any_alert_counts_zero_when_the_alert_goes_out(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    write_dump(tmp_path / "dumps")
    cfg = tmp_path / "credwatch.toml"
    cfg.write_text(
        f'[organisation]\nname = "FT"\ndomains = ["francetravail.fr"]\nportals = ["{PORTAL}"]\n'
        '[accounts]\nlogins = ["partner1@gmail.com"]\n[policy]\nenforce = true\n'
    )
    config = load_config(cfg)
    store = Store(pool)
    responses = Responses(
        store,
        PolicyConfig.from_mapping(config.policy),
        {"fake": ScriptedResponder(user=user())},
        channels=("inbox",),
    )
    scanner = Scanner(
        store, config, build_watchlist(config), feed=FileFeed(), key=TEST_KEY,
        channels=["inbox"], workdir=workdir, planner=responses,
    )  # fmt: skip
    await scanner.scan([tmp_path / "dumps"])
    before = counts()
    zero = leak_clock.CONTAINED.collect()[0].samples[0].value  # the first bucket, le=1
    await responses.run_due()  # contained, nobody alerted yet: nothing to observe
    assert counts() == before
    await deliver(store, Inbox())
    assert counts() == (before[0], before[1] + 1, before[2] + 1)
    assert leak_clock.CONTAINED.collect()[0].samples[0].value == zero + 1
