"""The asyncpg connection pool: connect (embedded server or CREDWATCH_DSN), create the database, migrate."""

from __future__ import annotations

import logging
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import platformdirs

from monitor.config import DSN_ENV
from monitor.errors import StoreError
from monitor.store import embedded
from monitor.store.migrate import migrate

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    dsn: str
    embedded_root: Path | None  # set when credwatch runs its own server


def data_dir() -> Path:
    """Where credwatch keeps its own files: $CREDWATCH_HOME or the user's data directory."""
    home = os.environ.get("CREDWATCH_HOME")
    return Path(home) if home else Path(platformdirs.user_data_dir("credwatch"))


def resolve_target() -> Target:
    """CREDWATCH_DSN when set; otherwise the embedded server under the data directory."""
    dsn = os.environ.get(DSN_ENV, "").strip()
    if dsn:
        return Target(dsn=dsn, embedded_root=None)
    root = data_dir() / "postgres"
    server = embedded.ensure_running(root)
    return Target(dsn=server.dsn(), embedded_root=root)


def redact(dsn: str) -> str:
    """The DSN without its password, for messages."""
    parts = urllib.parse.urlsplit(dsn)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        parts = parts._replace(netloc=netloc)
    return urllib.parse.urlunsplit(parts)


async def ensure_database(dsn: str) -> None:
    """Create the DSN's database when it does not exist yet (connects to 'postgres' to do so)."""
    parts = urllib.parse.urlsplit(dsn)
    name = parts.path.lstrip("/") or "postgres"
    try:
        conn = await asyncpg.connect(dsn, timeout=10)
    except asyncpg.InvalidCatalogNameError:
        admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
        conn = await asyncpg.connect(admin, timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        except asyncpg.DuplicateDatabaseError:
            pass
        finally:
            await conn.close()
        return
    await conn.close()


async def open_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """Connect, create the database if needed and apply migrations."""
    try:
        await ensure_database(dsn)
        pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, timeout=10)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise StoreError(f"cannot connect to PostgreSQL at {redact(dsn)}: {exc}") from None
    assert pool is not None
    async with pool.acquire() as conn:
        await migrate(conn)
    return pool


async def migrate_database(dsn: str) -> list[str]:
    """Create the DSN's database if needed and apply what is missing; returns the names applied."""
    await ensure_database(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        return await migrate(conn)
    finally:
        await conn.close()
