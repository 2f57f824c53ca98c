"""One failing alert never blocks its channel; after its last attempt it is dead-lettered."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import asyncpg

from monitor.errors import ProviderError
from monitor.notify import Alert, Delivery
from monitor.outbox import deliver
from monitor.store.store import Store
from tests.integration.test_claims import alert_ids, scan_demo


class Refusing:
    """A channel that refuses one alert (a definite or a transient answer), accepts the rest."""

    name: ClassVar[str] = "probe"

    def __init__(self, refused: int, *, retryable: bool) -> None:
        self.refused = refused
        self.retryable = retryable
        self.accepted: list[int] = []
        self.tries = 0

    async def send(self, alert: Alert, *, thread_ref: str | None = None) -> Delivery:
        if alert.id == self.refused:
            self.tries += 1
            raise ProviderError("HTTP 400 invalid_blocks", retryable=self.retryable, status=400)
        self.accepted.append(alert.id)
        return Delivery(ref=f"m{alert.id}")

    async def aclose(self) -> None:
        return None


async def test_a_definite_failure_goes_on_with_the_rest_then_dead_letters(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    store = Store(pool)
    await scan_demo(store, tmp_path, workdir)
    ids = await alert_ids(pool)
    channel = Refusing(ids[0], retryable=False)
    report = await deliver(store, channel, max_attempts=3)
    assert (report.sent, report.failed) == (len(ids) - 1, 1)
    assert channel.accepted == ids[1:]  # the first alert's failure held nobody back
    for attempt in (2, 3, 4):
        await pool.execute("UPDATE alerts SET next_attempt = now() WHERE sent_at IS NULL")
        await deliver(store, channel, max_attempts=3)
        assert channel.tries == min(attempt, 3)  # capped: never tried after the third
    row = await pool.fetchrow(
        "SELECT attempts, dead_at, last_error FROM alerts WHERE id = $1", ids[0]
    )
    assert row["attempts"] == 3 and row["dead_at"] is not None
    assert row["last_error"] == "HTTP 400 invalid_blocks"
    backlog = await store.backlog()
    assert backlog.alerts_dead == 1 and backlog.outbox == {}  # told, and not counted as waiting


async def test_a_transient_failure_ends_the_round_and_backs_off_alone(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    store = Store(pool)
    await scan_demo(store, tmp_path, workdir)
    ids = await alert_ids(pool)
    channel = Refusing(ids[1], retryable=True)
    report = await deliver(store, channel)
    assert (report.sent, report.failed) == (1, 1)  # the channel may be down: stop for now
    await pool.execute(
        "UPDATE alerts SET next_attempt = now() + interval '1 hour' WHERE id = $1", ids[1]
    )
    report = await deliver(store, channel)
    assert report.sent == len(ids) - 2  # the rest of the channel goes out meanwhile
    assert sorted(channel.accepted) == sorted(i for i in ids if i != ids[1])
