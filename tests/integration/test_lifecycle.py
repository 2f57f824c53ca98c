"""The lifecycle in the database: decisions audited, refused ones change nothing, material news
reopens, and suppression rules dismiss new exposures without an alert."""

from __future__ import annotations

import zipfile
from pathlib import Path

import asyncpg
import pytest

from feeds.reader import FileFeed
from monitor import triage
from monitor.config import load_config
from monitor.demo import write_demo
from monitor.lifecycle import State, TransitionRefused, Verb
from monitor.pipeline import Scanner
from monitor.policy import PolicyConfig
from monitor.respond import Responses
from monitor.store.store import Store
from monitor.watchlist import build_watchlist
from tests.conftest import TEST_KEY


def scanner_for(pool: asyncpg.Pool, tmp_path: Path, workdir: Path) -> Scanner:
    config = load_config(tmp_path / "demo" / "credwatch.toml")
    store = Store(pool)
    return Scanner(
        store,
        config,
        build_watchlist(config),
        feed=FileFeed(),
        key=TEST_KEY,
        channels=["console"],
        workdir=workdir,
        planner=Responses(store, PolicyConfig.from_mapping({}), {}, channels=("console",)),
    )


async def test_decisions_are_audited_and_material_news_reopens(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    planted = write_demo(tmp_path / "demo")
    scanner = scanner_for(pool, tmp_path, workdir)
    await scanner.scan([tmp_path / "demo" / "dumps"])
    store = Store(pool)
    async with pool.acquire() as conn:
        kairos = await conn.fetchval(
            "SELECT id FROM exposures WHERE login = $1 ORDER BY id LIMIT 1", planted[0].login
        )
    steps = [
        (Verb.ACK, State.ACKNOWLEDGED),
        (Verb.RESOLVE, State.RESOLVED),
        (Verb.REOPEN, State.OPEN),
        (Verb.DISMISS, State.DISMISSED),
    ]
    for verb, expected in steps:
        assert await triage.decide(store, kairos, verb, who="cli:ann", reason=f"{verb} why") == (
            expected
        )
    with pytest.raises(TransitionRefused):
        await triage.decide(store, kairos, Verb.ACK, who="cli:ann", reason="again")
    with pytest.raises(TransitionRefused, match="no exposure"):
        await triage.decide(store, 999_999, Verb.ACK, who="cli:ann", reason="x")
    history = await store.transitions(kairos)
    assert [(t.from_state, t.to_state, t.decided_by) for t in history] == [
        ("open", "acknowledged", "cli:ann"),
        ("acknowledged", "resolved", "cli:ann"),
        ("resolved", "open", "cli:ann"),
        ("open", "dismissed", "cli:ann"),
    ]
    # The same credential from a machine infected later: material news reopens it.
    newer = tmp_path / "resold.zip"
    with zipfile.ZipFile(newer, "w") as zf:
        zf.writestr(
            "PC2/Passwords.txt",
            f"URL: {planted[0].url}\nUsername: {planted[0].login}\n"
            f"Password: {planted[0].password}\n",
        )
        zf.writestr("PC2/UserInformation.txt", "Log date: 9/1/2025 10:00:00 AM\n")
    await scanner.scan([newer])
    state = await store.lifecycle(kairos)
    assert state is not None and state[0] == "open"
    last = (await store.transitions(kairos))[-1]
    assert (last.from_state, last.to_state, last.decided_by) == ("dismissed", "open", "credwatch")
    assert last.reason == "newer infection date 2025-09-01"


async def test_suppression_rules_dismiss_new_exposures_without_alerts(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    planted = write_demo(tmp_path / "demo")
    store = Store(pool)
    rule = await store.add_suppression("host", "*.francetravail.fr", "test portal", "cli:ann")
    await scanner_for(pool, tmp_path, workdir).scan([tmp_path / "demo" / "dumps"])
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT e.id, e.host, e.lifecycle, e.status,"
            " (SELECT count(*) FROM alerts a WHERE a.exposure_id = e.id) AS alerts"
            " FROM exposures e ORDER BY e.id"
        )
    covered = [r for r in rows if r["host"].endswith(".francetravail.fr")]
    others = [r for r in rows if not r["host"].endswith(".francetravail.fr")]
    assert covered and others and len(rows) >= len(planted) - 1
    assert all(r["lifecycle"] == "dismissed" and r["alerts"] == 0 for r in covered)
    assert all(r["lifecycle"] == "open" and r["alerts"] >= 1 for r in others)
    history = await store.transitions(covered[0]["id"])
    assert [(t.to_state, t.decided_by) for t in history] == [("dismissed", f"rule:{rule}")]
    assert await store.remove_suppression(rule) and not await store.remove_suppression(rule)
    assert await store.suppressions() == []
