"""Benchmark the hit writer: hits per second into PostgreSQL, batched and one transaction each.

    CREDWATCH_BENCH_DSN=postgresql://postgres@127.0.0.1:5432/postgres python -m bench.bench_writes

The DSN (CREDWATCH_BENCH_DSN, else CREDWATCH_TEST_DSN) names a server where a scratch database
may be created; it is migrated, used and dropped. The hits are generated (100,000 by default,
every one a different credential) and written as a scan writes them: exposure, sighting,
the policy's plan, an alert per channel and the scan's report row, in batches of
`monitor.hits.BATCH_SIZE`. Three loads are timed: new exposures, the same hits again (repeats:
nothing new), and the same credentials seen in another file (known exposures, new sightings).
For comparison, `--one-by-one N` hits are written one transaction each, as before batching.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import time
import urllib.parse

import asyncpg

from monitor.hits import BATCH_SIZE, HitWriter, Sighting
from monitor.policy import PolicyConfig
from monitor.respond import Responses
from monitor.routing import Routes
from monitor.store.migrate import migrate
from monitor.store.store import Store
from monitor.types import CredentialKind, LeakedCredential, Match, Reason, Secret, Severity

KEY = b"b" * 48  # a benchmark key, never a real one
SEVERITIES = (Severity.MEDIUM,) * 8 + (Severity.LOW, Severity.HIGH)


def hits(n: int, origin: str) -> list[Match]:
    """`n` different credentials of watched hosts, as one text base's hits."""
    out = []
    for i in range(n):
        host = f"app{i % 997}.example.org"
        out.append(
            Match(
                credential=LeakedCredential(
                    kind=CredentialKind.PASSWORD,
                    url=f"https://{host}/login",
                    host=host,
                    path="/login",
                    login=f"user{i}@mail{i % 89}.test",
                    secret=Secret(f"Pw-{i:07d}-leaked"),
                    origin=origin,
                    line=i + 1,
                ),
                reasons=(Reason.HOST,),
                severity=SEVERITIES[i % len(SEVERITIES)],
                domain="example.org",
            )
        )
    return out


def report(s: Sighting) -> str:
    c = s.match.credential
    return json.dumps(
        {
            "exposure": s.exposure_id,
            "new": s.new_exposure,
            "host": c.host,
            "login": c.login,
            "hint": c.secret.hint if c.secret else None,
            "origin": c.origin,
            "line": c.line,
        }
    )


async def timed(w: HitWriter, source: int, load: list[Match], size: int) -> float:
    """Hits per second writing `load` in batches of `size`."""
    started = time.perf_counter()
    for i in range(0, len(load), size):
        done = await w.write(load[i : i + size], source, ("bench", report))
        assert all(isinstance(d, Sighting) for d in done)
    return len(load) / (time.perf_counter() - started)


async def run(dsn: str, n: int, one_by_one: int) -> None:
    name = f"cw_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(dsn)
    target = urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    try:
        conn = await asyncpg.connect(target)
        await migrate(conn)
        await conn.close()
        pool = await asyncpg.create_pool(target, min_size=1, max_size=2)
        assert pool is not None
        store = Store(pool)
        routes = Routes.every(["console"])
        planner = Responses(store, PolicyConfig(), {}, channels=routes.channels)
        w = HitWriter(store, key=KEY, previous_keys=(), planner=planner, routes=routes)
        source = await store.start_source(kind="file", location="bench", identity="bench")
        first = hits(n, "base1.txt")
        rows = [
            ("new exposures", await timed(w, source, first, BATCH_SIZE)),
            ("repeats (the same hits again)", await timed(w, source, first, BATCH_SIZE)),
            (
                "known exposures, new places",
                await timed(w, source, hits(n, "base2.txt"), BATCH_SIZE),
            ),
        ]
        if one_by_one:
            rows.append(
                (
                    f"new exposures, one transaction per hit ({one_by_one:,} hits)",
                    await timed(w, source, hits(one_by_one, "base3.txt")[:one_by_one], 1),
                )
            )
        backlog = await store.backlog()
        await pool.close()
        print(f"| load ({n:,} hits, batches of {BATCH_SIZE}) | hits/s |")
        print("|---|---|")
        for label, rate in rows:
            print(f"| {label} | {rate:,.0f} |")
        print(f"stored: {backlog.exposures:,} exposures, {backlog.outbox} alerts queued")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hits", type=int, default=100_000)
    ap.add_argument("--one-by-one", type=int, default=5_000, help="0 to skip")
    args = ap.parse_args()
    dsn = os.environ.get("CREDWATCH_BENCH_DSN") or os.environ.get("CREDWATCH_TEST_DSN")
    if not dsn:
        sys.exit("set CREDWATCH_BENCH_DSN (or CREDWATCH_TEST_DSN) to a PostgreSQL server")
    asyncio.run(run(dsn, args.hits, args.one_by_one))


if __name__ == "__main__":
    main()
