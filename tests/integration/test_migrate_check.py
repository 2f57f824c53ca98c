"""Start-up checks the schema with one query; migrations run only when one is missing."""

from __future__ import annotations

import asyncpg

from monitor.store.migrate import available, migrate, up_to_date


async def test_migrated_database_is_up_to_date_and_migrate_is_a_no_op(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        assert await up_to_date(conn)
        assert await migrate(conn) == []
        latest = max(mg.version for mg in available())
        await conn.execute("DELETE FROM schema_migrations WHERE version = $1", latest)
        assert not await up_to_date(conn)
    finally:
        await conn.close()


async def test_empty_database_is_not_up_to_date(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DROP TABLE schema_migrations")
        assert not await up_to_date(conn)
    finally:
        await conn.close()
