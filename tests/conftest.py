"""Shared fixtures: a real PostgreSQL (CREDWATCH_TEST_DSN or one started here), a migrated
template database, and a fresh database per test cloned from it."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from hypothesis import settings

from monitor.store import embedded
from monitor.store.migrate import migrate

# Property and fuzz tests: a short, repeatable run by default (fixed seed); a long random one
# on demand with CREDWATCH_FUZZ=long (e.g. nightly: `CREDWATCH_FUZZ=long pytest -k fuzz`).
settings.register_profile("default", derandomize=True, deadline=None, max_examples=100)
settings.register_profile("long", derandomize=False, deadline=None, max_examples=20_000)
settings.load_profile("long" if os.environ.get("CREDWATCH_FUZZ") == "long" else "default")

TEST_KEY = b"k" * 48  # fingerprint key used by tests (never a real one)


def with_database(dsn: str, name: str) -> str:
    parts = urllib.parse.urlsplit(dsn)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """DSN of a server where tests may create databases."""
    given = os.environ.get("CREDWATCH_TEST_DSN", "").strip()
    if given:
        yield given
        return
    # Not under pytest's basetemp: a concurrent pytest run may prune that while we run.
    root = Path(tempfile.mkdtemp(prefix="cw-test-pg-"))
    server = embedded.ensure_running(root)
    try:
        yield server.dsn("postgres")
    finally:
        embedded.stop(root, mode="immediate")
        shutil.rmtree(root, ignore_errors=True)


@pytest_asyncio.fixture(scope="session")
async def template_db(pg_server: str) -> AsyncIterator[str]:
    name = f"cw_tpl_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(pg_server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        conn = await asyncpg.connect(with_database(pg_server, name))
        try:
            await migrate(conn)
        finally:
            await conn.close()
        yield name
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest_asyncio.fixture
async def dsn(pg_server: str, template_db: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one test."""
    name = f"cw_t_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(pg_server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
        yield with_database(pg_server, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest_asyncio.fixture
async def pool(dsn: str) -> AsyncIterator[asyncpg.Pool]:
    p = await asyncpg.create_pool(dsn, min_size=1, max_size=5)
    assert p is not None
    try:
        yield p
    finally:
        await p.close()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    w = tmp_path / "work"
    w.mkdir()
    return w
