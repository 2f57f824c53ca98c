"""Benchmark alert delivery from a backlog: alerts per second through `monitor.outbox.deliver`.

    CREDWATCH_BENCH_DSN=postgresql://postgres@127.0.0.1:5432/postgres python -m bench.bench_outbox

The DSN (CREDWATCH_BENCH_DSN, else CREDWATCH_TEST_DSN) names a server where a scratch database
may be created; it is migrated, filled with `--alerts` exposures (20,000 by default) each with
a "new" alert waiting on the console channel, then `deliver` runs until the backlog is empty or
`--seconds` have passed (the console writes to /dev/null). Every alert is claimed, rendered,
printed and recorded sent one at a time, as in production. Run it against an older checkout
(PYTHONPATH) to compare: the backlog is made with plain SQL, which any schema version takes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
from pathlib import Path

import asyncpg

from bench.scratch import bench_dsn, scratch_database
from monitor.outbox import deliver
from monitor.store.store import Store
from notifiers.console import ConsoleNotifier

# The backlog: exposures of watched hosts, one with a sighting each, and their "new" alerts.
BACKLOG = """
INSERT INTO exposures (fingerprint, kind, host, login, reasons, severity, domain)
SELECT 'bench-' || i, 'password', 'app' || (i % 997) || '.example.org',
       'user' || i || '@mail.test', ARRAY['host'], 1 + i % 3, 'example.org'
FROM generate_series(1, $1) AS i;
"""
SIGHTINGS = """
INSERT INTO sightings (exposure_id, origin, line, feed)
SELECT id, 'base.txt', id, 'file' FROM exposures
"""
ALERTS = """
INSERT INTO alerts (exposure_id, channel, event, origin)
SELECT id, 'console', 'new', 'base.txt:' || id FROM exposures ORDER BY id
"""
PENDING = "SELECT count(*) FROM alerts WHERE sent_at IS NULL"


async def run(dsn: str, n: int, seconds: float) -> None:
    async with scratch_database(dsn) as target:
        conn = await asyncpg.connect(target)
        await conn.execute(BACKLOG.replace("$1", str(int(n))))
        await conn.execute(SIGHTINGS)
        await conn.execute(ALERTS)
        await conn.execute("ANALYZE")
        pool = await asyncpg.create_pool(target, min_size=1, max_size=2)
        assert pool is not None
        with Path(os.devnull).open("w", encoding="utf-8") as sink:  # noqa: ASYNC230
            console = ConsoleNotifier(stream=sink)
            started = time.perf_counter()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(deliver(Store(pool), console), seconds)
            wall = time.perf_counter() - started
        left = int(await conn.fetchval(PENDING))
        await conn.close()
        await pool.close()
        sent = n - left
        print("| backlog | delivered | time | alerts/s |")
        print("|---|---|---|---|")
        print(f"| {n:,} console alerts | {sent:,} | {wall:.1f} s | {sent / wall:,.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--alerts", type=int, default=20_000)
    ap.add_argument("--seconds", type=float, default=600.0, help="stop delivering after this")
    args = ap.parse_args()
    asyncio.run(run(bench_dsn(), args.alerts, args.seconds))


if __name__ == "__main__":
    main()
