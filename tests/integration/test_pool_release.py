"""The store's pool gives a connection back without a reset round trip, and still never hands out
one in a transaction."""

from __future__ import annotations

from monitor.store import db


async def test_a_connection_goes_back_without_a_reset_query(dsn: str) -> None:
    pool = await db.open_pool(dsn, max_size=1)
    sent: list[str] = []
    try:
        async with pool.acquire() as conn:
            conn.add_query_logger(lambda record: sent.append(record.query))
            await conn.fetchval("SELECT 1")
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT 2") == 2
    finally:
        await pool.close()
    assert sent == ["SELECT 1", "SELECT 2"]  # nothing between the two: no RESET ALL, UNLISTEN


async def test_a_transaction_left_open_is_rolled_back_on_release(dsn: str) -> None:
    pool = await db.open_pool(dsn, max_size=1)
    try:
        conn = await pool.acquire()
        tx = conn.transaction()
        await tx.start()
        await conn.execute("CREATE TABLE left_open (x int)")
        await pool.release(conn)
        async with pool.acquire() as again:
            assert not again.is_in_transaction()
            gone = await again.fetchval("SELECT to_regclass('left_open')")
            assert gone is None
    finally:
        await pool.close()
