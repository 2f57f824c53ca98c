"""A throwaway, migrated database for the store benchmarks, on the server the environment names."""

from __future__ import annotations

import os
import secrets
import sys
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from monitor.store.migrate import migrate


def bench_dsn() -> str:
    """The server to benchmark on (CREDWATCH_BENCH_DSN, else CREDWATCH_TEST_DSN), or exit."""
    dsn = os.environ.get("CREDWATCH_BENCH_DSN") or os.environ.get("CREDWATCH_TEST_DSN")
    if not dsn:
        sys.exit("set CREDWATCH_BENCH_DSN (or CREDWATCH_TEST_DSN) to a PostgreSQL server")
    return dsn


@asynccontextmanager
async def scratch_database(dsn: str) -> AsyncIterator[str]:
    """The DSN of a new, migrated database on `dsn`'s server, dropped on the way out."""
    name = f"cw_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(dsn)
    target = urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    try:
        conn = await asyncpg.connect(target)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        yield target
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
