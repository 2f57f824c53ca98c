"""Fingerprint keys: a different key is refused, a rotation keeps every exposure's identity."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from monitor.demo import write_demo
from monitor.errors import ConfigError
from monitor.keys import KeyRing, key_id, rotate, verify
from monitor.store.store import Store
from tests.conftest import TEST_KEY

OLD = TEST_KEY.decode()
NEW = "n" * 48


def cli(
    dsn: str, home: Path, *args: str, key: str, previous: str = ""
) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        CREDWATCH_DSN=dsn,
        CREDWATCH_HMAC_KEY=key,
        CREDWATCH_HMAC_KEY_PREVIOUS=previous,
        CREDWATCH_HOME=str(home),
    )
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


async def counts(pool: asyncpg.Pool) -> tuple[int, int, int]:
    return (
        await pool.fetchval("SELECT count(*) FROM exposures"),
        await pool.fetchval("SELECT count(*) FROM alerts"),
        await pool.fetchval("SELECT count(*) FROM containments"),
    )


async def test_first_key_recorded_then_a_different_one_refused(pool: asyncpg.Pool) -> None:
    store = Store(pool)
    await verify(store, KeyRing(current=TEST_KEY))
    await verify(store, KeyRing(current=TEST_KEY))  # the same key again: fine
    with pytest.raises(ConfigError, match="surrounding whitespace"):
        await verify(store, KeyRing(current=TEST_KEY + b" "))
    with pytest.raises(ConfigError, match="rotate-key"):
        await verify(store, KeyRing(current=NEW.encode()))
    with pytest.raises(ConfigError, match="give the current key"):
        await rotate(store, KeyRing(current=NEW.encode(), previous=(b"x" * 48,)))
    done = await rotate(store, KeyRing(current=NEW.encode(), previous=(TEST_KEY,)))
    assert (done.retired, done.current, done.changed) == (
        key_id(TEST_KEY),
        key_id(NEW.encode()),
        True,
    )
    again = await rotate(store, KeyRing(current=NEW.encode(), previous=(TEST_KEY,)))
    assert not again.changed
    with pytest.raises(ConfigError, match="retired key"):
        await verify(store, KeyRing(current=NEW.encode()))
    with pytest.raises(ConfigError, match="retired by a rotation"):
        await verify(store, KeyRing(current=TEST_KEY, previous=(TEST_KEY,)))
    await verify(store, KeyRing(current=NEW.encode(), previous=(TEST_KEY,)))
    stored = {
        r["check_value"] for r in await pool.fetch("SELECT check_value FROM fingerprint_keys")
    }
    assert not any(OLD in v or NEW in v for v in stored)  # never the key itself


async def test_key_mistakes_refused_rotation_duplicates_nothing(
    dsn: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    write_demo(tmp_path / "demo")
    cfg = str(tmp_path / "demo" / "credwatch.toml")
    dumps = tmp_path / "demo" / "dumps"
    first = cli(dsn, tmp_path, "scan", str(dumps), "--config", cfg, key=OLD)
    assert first.returncode == 1, first.stderr[-2000:]
    before = await counts(pool)
    assert before[0] > 0 and before[1] > 0

    # The environment value is stripped: a stray trailing space is the same key, not a new world.
    spaced = cli(dsn, tmp_path, "scan", str(dumps), "--config", cfg, key=OLD + " ")
    assert spaced.returncode == 1, spaced.stderr[-2000:]
    assert await counts(pool) == before
    for wrong in (NEW, NEW + " "):  # a genuinely different key, with or without the space
        run = cli(dsn, tmp_path, "scan", str(dumps), "--config", cfg, key=wrong)
        assert run.returncode == 2 and "is not the key that made" in run.stderr
        assert await counts(pool) == before

    rotated = cli(dsn, tmp_path, "db", "rotate-key", key=NEW, previous=OLD)
    assert rotated.returncode == 0, rotated.stderr
    assert f"key {key_id(NEW.encode())} current" in rotated.stderr
    # The new key alone is refused while older fingerprints exist; with the old key given, the
    # same credentials (read from a copy: a new source) are recognised.
    alone = cli(dsn, tmp_path, "scan", str(dumps), "--config", cfg, key=NEW)
    assert alone.returncode == 2 and "CREDWATCH_HMAC_KEY_PREVIOUS" in alone.stderr
    copy = tmp_path / "copy"
    shutil.copytree(dumps, copy)
    again = cli(dsn, tmp_path, "scan", str(copy), "--config", cfg, key=NEW, previous=OLD)
    assert again.returncode == 1, again.stderr[-2000:]
    assert await counts(pool) == before  # no new exposure, alert or containment
    sightings = await pool.fetchval(
        "SELECT count(*) FROM sightings WHERE origin LIKE $1", f"{copy}%"
    )
    assert sightings > 0
