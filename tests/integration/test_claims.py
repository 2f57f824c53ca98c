"""Claim, commit, act, record: no transaction is open while a channel or an identity provider is
waited for, and a worker that dies between claim and record loses nothing and redoes nothing early."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import ClassVar

import asyncpg

from feeds.reader import FileFeed
from monitor.config import load_config
from monitor.demo import write_demo
from monitor.notify import Alert, Delivery
from monitor.outbox import deliver
from monitor.pipeline import Scanner
from monitor.policy import PolicyConfig
from monitor.respond import Responses
from monitor.responder import AccountRef, IdentityUser, StepResult
from monitor.store.store import Store
from monitor.watchlist import build_watchlist
from tests.conftest import TEST_KEY
from tests.unit.test_containment import ScriptedResponder, user

LEASE = 1.5  # seconds; short, so that the tests can wait for a lease to run out


class TxProbe:
    """Counts, from its own connection, the other client sessions of the test database that are
    inside a transaction at the moment it is called."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.seen: list[int] = []

    async def __call__(self) -> None:
        conn = await asyncpg.connect(self.dsn)
        try:
            n = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend'"
                " AND (state LIKE 'idle in transaction%' OR xact_start IS NOT NULL)"
            )
        finally:
            await conn.close()
        self.seen.append(int(n))


class ProbeNotifier:
    """A channel in memory: probes the database on each post, remembers what it accepted, and
    can hang on a post (a worker killed mid-delivery) after `hang_after` accepted posts."""

    name: ClassVar[str] = "probe"

    def __init__(self, probe: TxProbe | None = None, *, hang_after: int | None = None) -> None:
        self.probe = probe
        self.hang_after = hang_after
        self.hanging = asyncio.Event()
        self.accepted: list[int] = []

    async def send(self, alert: Alert, *, thread_ref: str | None = None) -> Delivery:
        if self.probe is not None:
            await self.probe()
        if self.hang_after is not None and len(self.accepted) >= self.hang_after:
            self.hanging.set()
            await asyncio.Event().wait()
        self.accepted.append(alert.id)
        return Delivery(ref=f"m{alert.id}")

    async def aclose(self) -> None:
        return None


class ProbeResponder(ScriptedResponder):
    """The scripted identity provider, probing the database on every call."""

    def __init__(self, probe: TxProbe) -> None:
        super().__init__(user=user())
        self.probe = probe

    async def find_user(self, account: AccountRef) -> IdentityUser | None:
        await self.probe()
        return await super().find_user(account)

    async def _step(self, step: str, dry_run: bool) -> StepResult:
        await self.probe()
        return await super()._step(step, dry_run)


async def scan_demo(store: Store, tmp_path: Path, workdir: Path) -> None:
    """Store the demo's exposures, each with a "new" alert queued on the probe channel."""
    write_demo(tmp_path / "demo")
    config = load_config(tmp_path / "demo" / "credwatch.toml")
    scanner = Scanner(
        store,
        config,
        build_watchlist(config),
        feed=FileFeed(),
        key=TEST_KEY,
        channels=["probe"],
        workdir=workdir,
    )
    await scanner.scan([tmp_path / "demo" / "dumps"])


async def alert_ids(pool: asyncpg.Pool) -> list[int]:
    async with pool.acquire() as conn:
        return [r["id"] for r in await conn.fetch("SELECT id FROM alerts ORDER BY id")]


async def plan_two(store: Store, pool: asyncpg.Pool) -> list[int]:
    """Plan containment in the scripted provider for two exposures; returns the plans' ids."""
    async with pool.acquire() as conn:
        exposures = [r["id"] for r in await conn.fetch("SELECT id FROM exposures ORDER BY id")]
    planned = []
    async with store.transaction() as tx:
        for exposure_id in exposures[:2]:
            planned.append(
                await tx.plan_containment(
                    exposure_id=exposure_id,
                    provider="fake",
                    decision="contain",
                    dry_run=False,
                    status="pending",
                    decided_by="policy",
                    reason="test",
                    login="partner1@gmail.com",
                    idp_user_id=None,
                )
            )
    assert None not in planned
    return [p for p in planned if p is not None]


def responses(store: Store, responder: ScriptedResponder) -> Responses:
    return Responses(
        store, PolicyConfig.from_mapping({}), {"fake": responder}, channels=("probe",), lease=LEASE
    )


async def test_no_transaction_is_open_while_a_channel_or_a_provider_answers(
    dsn: str, pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    store = Store(pool)
    await scan_demo(store, tmp_path, workdir)
    await plan_two(store, pool)
    probe = TxProbe(dsn)
    # The probe does see a transaction of ours when one is open.
    async with store.transaction() as tx:
        await tx.set_exposure_status(1, "new", None)
        await probe()
    assert probe.seen == [1]
    probe.seen.clear()

    responder = ProbeResponder(probe)
    assert await responses(store, responder).run_due() == 2
    assert ("reset_password", False) in responder.calls
    notifier = ProbeNotifier(probe)
    report = await deliver(store, notifier)
    assert report.sent == len(await alert_ids(pool)) == len(notifier.accepted)
    assert len(probe.seen) >= 2 * 2 + report.sent  # find_user and steps, then every post
    assert probe.seen == [0] * len(probe.seen)


async def test_a_claimed_alert_of_a_dead_worker_waits_for_its_lease_then_goes_out(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    store = Store(pool)
    await scan_demo(store, tmp_path, workdir)
    ids = await alert_ids(pool)
    assert len(ids) >= 3
    # A worker claims the oldest alert, commits, and dies before recording anything.
    (claimed,) = await store.claim_alerts("probe", limit=1, lease=LEASE)
    assert claimed.id == ids[0]
    # While its lease runs, it does not go out; the channel's other alerts do, once each.
    notifier = ProbeNotifier()
    assert (await deliver(store, notifier, lease=LEASE)).sent == len(ids) - 1
    assert notifier.accepted == ids[1:]
    await asyncio.sleep(LEASE + 0.3)
    # After it, the alert is claimable again and goes out once.
    report = await deliver(store, notifier, lease=LEASE)
    assert report.sent == 1
    assert notifier.accepted == [*ids[1:], ids[0]]


async def test_a_claimed_containment_of_a_dead_worker_waits_for_its_lease_then_runs(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    store = Store(pool)
    await scan_demo(store, tmp_path, workdir)
    first, second = await plan_two(store, pool)
    # A worker claims the first containment, commits, and dies before recording anything.
    job = await store.claim_containment(lease=LEASE)
    assert job is not None and job.id == first and job.provider == "fake"
    responder = ScriptedResponder(user=user())
    runner = responses(store, responder)
    # While its lease runs, only the other containment is run.
    assert await runner.run_due() == 1
    assert await runner.run_due() == 0
    async with pool.acquire() as conn:
        status = dict(await conn.fetch("SELECT id, status FROM containments"))
    assert status == {first: "pending", second: "done"}
    await asyncio.sleep(LEASE + 0.3)
    assert await runner.run_due() == 1
    assert await runner.run_due() == 0
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT id, status, attempts, leased_until FROM containments")
    assert {r["id"]: (r["status"], r["attempts"]) for r in rows} == {
        first: ("done", 1),
        second: ("done", 1),
    }
    assert all(r["leased_until"] is None for r in rows)


async def test_delivery_killed_after_k_posts_resends_none_of_them(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    store = Store(pool)
    await scan_demo(store, tmp_path, workdir)
    ids = await alert_ids(pool)
    k = 2
    assert len(ids) > k + 1
    dying = ProbeNotifier(hang_after=k)
    worker = asyncio.create_task(deliver(store, dying, lease=LEASE))
    await asyncio.wait_for(dying.hanging.wait(), timeout=10)
    worker.cancel()  # killed in the middle of post k + 1
    with contextlib.suppress(asyncio.CancelledError):
        await worker
    assert dying.accepted == ids[:k]
    async with pool.acquire() as conn:
        sent = [
            r["id"] for r in await conn.fetch("SELECT id FROM alerts WHERE sent_at IS NOT NULL")
        ]
    assert sorted(sent) == ids[:k]  # each post was recorded right after it
    notifier = ProbeNotifier()
    # Post k + 1 and the rest of the dead deliverer's claim are leased: nothing goes out yet.
    assert (await deliver(store, notifier, lease=LEASE)).sent == 0
    await asyncio.sleep(LEASE + 0.3)
    report = await deliver(store, notifier, lease=LEASE)
    assert report.sent == len(ids) - k
    # none of the first k again; the one in flight at most once more; each of the rest once
    assert sorted(notifier.accepted) == ids[k:]


async def test_a_dead_deliverers_claim_holds_back_only_what_it_claimed(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    store = Store(pool)
    await scan_demo(store, tmp_path, workdir)
    ids = await alert_ids(pool)
    k = 2
    dying = ProbeNotifier(hang_after=k)
    worker = asyncio.create_task(deliver(store, dying, lease=LEASE, singles=k + 1))
    await asyncio.wait_for(dying.hanging.wait(), timeout=10)
    worker.cancel()  # killed in the middle of the last post of its claim
    with contextlib.suppress(asyncio.CancelledError):
        await worker
    notifier = ProbeNotifier()
    # The one in flight is still leased; the channel's other alerts go out, in order.
    assert (await deliver(store, notifier, lease=LEASE)).sent == len(ids) - k - 1
    assert notifier.accepted == ids[k + 1 :]
    await asyncio.sleep(LEASE + 0.3)
    assert (await deliver(store, notifier, lease=LEASE)).sent == 1
    assert notifier.accepted == [*ids[k + 1 :], ids[k]]


async def test_a_change_seen_while_the_new_alert_is_being_posted_gets_its_own_alert(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    import zipfile

    store = Store(pool)
    planted = write_demo(tmp_path / "demo")
    config = load_config(tmp_path / "demo" / "credwatch.toml")
    scanner = Scanner(
        store,
        config,
        build_watchlist(config),
        feed=FileFeed(),
        key=TEST_KEY,
        channels=["probe"],
        workdir=workdir,
    )
    await scanner.scan([tmp_path / "demo" / "dumps"])
    kairos = planted[0]
    async with pool.acquire() as conn:
        kairos_alert = await conn.fetchval(
            "SELECT a.id FROM alerts a JOIN exposures e ON e.id = a.exposure_id"
            " WHERE e.login = $1 AND a.event = 'new'",
            kairos.login,
        )
        # Everything before it was announced: its "new" alert is next, then claimed (rendered).
        await conn.execute("UPDATE alerts SET sent_at = now() WHERE id < $1", kairos_alert)
    (claimed,) = await store.claim_alerts("probe", limit=1, lease=60)
    assert claimed.id == kairos_alert
    newer = tmp_path / "resold.zip"
    with zipfile.ZipFile(newer, "w") as zf:
        zf.writestr(
            "PC2/Passwords.txt",
            f"URL: {kairos.url}\nUsername: {kairos.login}\nPassword: {kairos.password}\n",
        )
        zf.writestr("PC2/UserInformation.txt", "Log date: 9/1/2025 10:00:00 AM\n")
    await scanner.scan([newer])
    async with pool.acquire() as conn:
        updates = await conn.fetch("SELECT event_key FROM alerts WHERE event = 'updated'")
    assert [r["event_key"] for r in updates] == ["newer infection date 2025-09-01"]
