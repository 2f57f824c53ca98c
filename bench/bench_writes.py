"""Benchmark the hit writer: hits per second into PostgreSQL, batched and one transaction each.

    CREDWATCH_BENCH_DSN=postgresql://postgres@127.0.0.1:5432/postgres python -m bench.bench_writes

The DSN (CREDWATCH_BENCH_DSN, else CREDWATCH_TEST_DSN) names a server where a scratch database
may be created; it is migrated, used and dropped. The hits are generated (100,000 by default,
every one a different credential) and written as a scan writes them: exposure, sighting,
the policy's plan, an alert per channel and the scan's report row, in batches of
`monitor.hits.BATCH_SIZE`. Three loads are timed: new exposures, the same hits again (repeats:
nothing new), and the same credentials seen in another file (known exposures, new sightings).
For comparison, `--one-by-one N` hits are written one transaction each, as before batching.
With `--writers N` the three loads are timed again with N writer processes at once (a scan's
workers each write their own hits), other credentials split between them: hits per second of
all together, CPU per hit of each side.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import time
from multiprocessing.synchronize import Barrier
from pathlib import Path

import asyncpg

from bench.scratch import bench_dsn, scratch_database
from monitor.hits import BATCH_SIZE, HitWriter, Sighting
from monitor.policy import PolicyConfig
from monitor.respond import Responses
from monitor.routing import Routes
from monitor.store.store import Store
from monitor.types import CredentialKind, LeakedCredential, Match, Reason, Secret, Severity

KEY = b"b" * 48  # a benchmark key, never a real one
SEVERITIES = (Severity.MEDIUM,) * 8 + (Severity.LOW, Severity.HIGH)


def hits(n: int, origin: str, first: int = 0) -> list[Match]:
    """`n` different credentials of watched hosts (from the `first`-th on), as one text base's
    hits."""
    out = []
    for i in range(first, first + n):
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


def server_cpu(pid: int) -> float | None:
    """CPU seconds the server process `pid` used so far, when it runs on this machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def timed(
    w: HitWriter, source: int, load: list[Match], size: int, backend: int
) -> tuple[float, float, float | None]:
    """Hits per second writing `load` in batches of `size`, and the CPU microseconds per hit
    spent here and in the server's backend (None when it is not on this machine)."""
    cpu, server = time.process_time(), server_cpu(backend)
    started = time.perf_counter()
    for i in range(0, len(load), size):
        done = await w.write(load[i : i + size], source, ("bench", report))
        assert all(isinstance(d, Sighting) for d in done)
    wall = time.perf_counter() - started
    here = (time.process_time() - cpu) / len(load) * 1e6
    after = server_cpu(backend)
    there = (after - server) / len(load) * 1e6 if server is not None and after is not None else None
    return len(load) / wall, here, there


LOADS = (
    "new exposures",
    "repeats (the same hits again)",
    "known exposures, new places",
)


async def _open_writer(target: str) -> tuple[asyncpg.Pool, int, HitWriter]:
    """A one-connection pool on `target`, its server backend's pid, and a hit writer on it as a
    scan's (the default policy's plan, one console alert per hit)."""
    pool = await asyncpg.create_pool(target, min_size=1, max_size=1)
    assert pool is not None
    async with pool.acquire() as c:
        backend = int(await c.fetchval("SELECT pg_backend_pid()"))
    store = Store(pool)
    routes = Routes.every(["console"])
    planner = Responses(store, PolicyConfig(), {}, channels=routes.channels)
    writer = HitWriter(store, key=KEY, previous_keys=(), planner=planner, routes=routes)
    return pool, backend, writer


async def _writer(
    target: str, source: int, first: int, n: int, start: Barrier
) -> list[tuple[float, float, float | None]]:
    """One writer process's part of the loads: seconds, client and server CPU µs per hit."""
    pool, backend, w = await _open_writer(target)
    mine = hits(n, "many1.txt", first)
    out = []
    for load in (mine, mine, hits(n, "many2.txt", first)):
        start.wait()
        rate, here, there = await timed(w, source, load, BATCH_SIZE, backend)
        out.append((n / rate, here, there))
    await pool.close()
    return out


def _writer_process(
    target: str,
    source: int,
    first: int,
    n: int,
    start: Barrier,
    results: multiprocessing.Queue[list[tuple[float, float, float | None]]],
) -> None:
    results.put(asyncio.run(_writer(target, source, first, n, start)))


Row = tuple[str, tuple[float, float, float | None]]  # label, (hits/s, client, server µs/hit)


def many(target: str, source: int, first: int, n: int, writers: int) -> list[Row]:
    """The three loads with `writers` processes at once, `n` hits in all."""
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(writers)
    results: multiprocessing.Queue[list[tuple[float, float, float | None]]] = ctx.Queue()
    share = n // writers
    procs = [
        ctx.Process(
            target=_writer_process,
            args=(target, source, first + i * share, share, start, results),
        )
        for i in range(writers)
    ]
    for proc in procs:
        proc.start()
    parts = [results.get() for _ in procs]
    for proc in procs:
        proc.join()
    rows: list[Row] = []
    for k, label in enumerate(LOADS):
        wall = max(part[k][0] for part in parts)
        here = sum(part[k][1] for part in parts) / writers
        theirs = [part[k][2] for part in parts]
        there = None if None in theirs else sum(t for t in theirs if t is not None) / writers
        rows.append((f"{label}, {writers} writer processes", (share * writers / wall, here, there)))
    return rows


async def run(dsn: str, n: int, one_by_one: int, writers: int = 1) -> None:
    async with scratch_database(dsn) as target:
        pool, backend, w = await _open_writer(target)
        source = await w.store.start_source(kind="file", location="bench", identity="bench")
        first = hits(n, "base1.txt")
        rows = [
            ("new exposures", await timed(w, source, first, BATCH_SIZE, backend)),
            ("repeats (the same hits again)", await timed(w, source, first, BATCH_SIZE, backend)),
            (
                "known exposures, new places",
                await timed(w, source, hits(n, "base2.txt"), BATCH_SIZE, backend),
            ),
        ]
        if one_by_one:
            rows.append(
                (
                    f"new exposures, one transaction per hit ({one_by_one:,} hits)",
                    await timed(w, source, hits(one_by_one, "base3.txt", n), 1, backend),
                )
            )
        if writers > 1:
            rows += await asyncio.to_thread(many, target, source, n + one_by_one, n, writers)
        backlog = await w.store.backlog()
        await pool.close()
        print(
            f"| load ({n:,} hits, batches of {BATCH_SIZE}) | hits/s |"
            " client CPU µs/hit | server CPU µs/hit |"
        )
        print("|---|---|---|---|")
        for label, (rate, here, there) in rows:
            server = f"{there:.0f}" if there is not None else "–"
            print(f"| {label} | {rate:,.0f} | {here:.0f} | {server} |")
        print(f"stored: {backlog.exposures:,} exposures, {backlog.outbox} alerts queued")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hits", type=int, default=100_000)
    ap.add_argument("--one-by-one", type=int, default=5_000, help="0 to skip")
    ap.add_argument("--writers", type=int, default=1, help="also time N writer processes")
    args = ap.parse_args()
    asyncio.run(run(bench_dsn(), args.hits, args.one_by_one, args.writers))


if __name__ == "__main__":
    main()
