"""Apply the numbered SQL migrations once, in order, under an advisory lock (safe when processes race)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import asyncpg

from monitor import queue

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

log = logging.getLogger(__name__)

_LOCK_KEY = 0x63776D67  # "cwmg": serialises migrations across processes
QUEUE_VERSION = 11  # the work queue's own tables are installed with this migration
_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Migration:
    version: int
    name: str
    sql: str


def _folder() -> Traversable:
    return resources.files("monitor.store") / "migrations"


def versions() -> set[int]:
    """The numbers of the available migrations, from their file names (nothing read)."""
    return {int(m[1]) for m in (_NAME.match(e.name) for e in _folder().iterdir()) if m}


def available() -> list[Migration]:
    found = []
    for entry in _folder().iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(
                Migration(version=int(m[1]), name=entry.name, sql=entry.read_text("utf-8"))
            )
    found.sort(key=lambda mg: mg.version)
    return found


async def up_to_date(conn: asyncpg.Connection) -> bool:
    """True when every available migration is recorded as applied."""
    try:
        done = await conn.fetchval("SELECT array_agg(version) FROM schema_migrations")
    except asyncpg.UndefinedTableError:
        return False
    return versions() <= set(done or ())


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply what is missing; returns the names applied. Idempotent."""
    applied_now: list[str] = []
    if await up_to_date(conn):
        return applied_now  # the common case: one cheap query, no lock
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for mg in available():
            if mg.version in done:
                continue
            async with conn.transaction():
                await conn.execute(mg.sql)
                if mg.version == QUEUE_VERSION:
                    await queue.install(conn)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    mg.version,
                    mg.name,
                )
            log.info("migration applied", extra={"migration": mg.name})
            applied_now.append(mg.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return applied_now
