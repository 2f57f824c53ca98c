"""Scaling with workers: the same corpus scanned by 1, 2, ... `credwatch worker` processes on one
database, through `credwatch scan --cluster`.

    python -m bench.workers [--lines 20000000] [--workers 1 2] [--runs 3] [--threads 1]

The server comes from CREDWATCH_BENCH_DSN (else CREDWATCH_TEST_DSN). Per run: a new scratch
database, N workers started (one scanning process each, `[scan] threads` readers per process)
and left to come up, then a first scan (every hit stored and alerted) and the same scan again
(nothing new); one untimed round first warms the page cache. Two times per scan:

- the whole `credwatch scan --cluster` process (start-up, queueing the units, following them,
  printing the hits);
- the workers' own time: from the first unit taken to the last one done, as the queue's log
  records them (`pgqueuer_log`). Workers are long-running: this is the rate they drain a load.

Prints a markdown table (best and median of the runs) and the speed-up of each worker count
over one worker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.domain_watch import Run, credwatch_env, hits_printed, timed
from bench.run import CONFIG
from bench.scratch import bench_dsn, scratch_database

SETTLE = 3.0  # seconds for the workers to start and listen before the first scan


@dataclass(frozen=True, slots=True)
class Scan:
    whole: Run
    drained: float  # seconds from the first unit taken to the last one done


async def drained_since(dsn: str, since: float) -> float:
    """Seconds from the first unit taken to the last one done, of the jobs logged after `since`."""
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT min(created) FILTER (WHERE status = 'picked') AS first,"
            " max(created) FILTER (WHERE status = 'successful') AS last"
            " FROM pgqueuer_log WHERE created >= to_timestamp($1)",
            since,
        )
    finally:
        await conn.close()
    assert row is not None and row["first"] is not None and row["last"] is not None
    return float((row["last"] - row["first"]).total_seconds())


async def one_run(
    dsn: str, corpus: Path, config: Path, home: Path, workers: int
) -> tuple[Scan, Scan, int]:
    """A new database and `workers` workers: a first scan, then the same scan again."""
    async with scratch_database(dsn) as target:
        env = credwatch_env(target, home)
        serve = [sys.executable, "-m", "monitor.cli", "worker", "--config", str(config)]
        procs = [
            await asyncio.create_subprocess_exec(
                *serve, "--concurrency", "1", env=env, stdout=asyncio.subprocess.DEVNULL
            )
            for _ in range(workers)
        ]
        try:
            await asyncio.sleep(SETTLE)
            cmd = [sys.executable, "-m", "monitor.cli", "scan", "--cluster", "--json"]
            scans = []
            for _ in range(2):
                since = time.time()
                whole = await asyncio.to_thread(
                    timed, [*cmd, "--config", str(config), str(corpus)], env
                )
                scans.append(Scan(whole, await drained_since(target, since)))
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                await p.wait()
    return scans[0], scans[1], hits_printed(scans[0].whole)


def cell(values: list[float]) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f} s"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=20_000_000)
    ap.add_argument("--data", type=Path, default=Path("bench/data"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--threads", type=int, default=1, help="[scan] threads of each worker")
    args = ap.parse_args()
    dsn = bench_dsn()
    corpus = args.data / f"ulp_{args.lines}.txt"
    if not corpus.exists():
        sys.exit(f"{corpus} is missing: python -m bench.gen_ulp {corpus} --lines {args.lines}")
    expected = json.loads(Path(f"{corpus}.truth.json").read_text())["hit_lines"]
    print(f"corpus: {corpus} ({corpus.stat().st_size / 1e6:.0f} MB), {os.cpu_count()} cores")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print(
        "| workers | scan | whole `scan --cluster`, best / median | workers' time, best / median"
        " | lines/s (workers, best) | result |"
    )
    print("|---|---|---|---|---|---|")
    drained: dict[tuple[int, str], float] = {}
    with tempfile.TemporaryDirectory(prefix="cw-bench-") as tmp:
        home = Path(tmp)
        config = home / "bench.toml"
        config.write_text(f"{CONFIG}\n[scan]\nthreads = {args.threads}\n", encoding="utf-8")
        asyncio.run(one_run(dsn, corpus, config, home, 1))  # warms the page cache
        for n in args.workers:
            runs = [asyncio.run(one_run(dsn, corpus, config, home, n)) for _ in range(args.runs)]
            counts = {hits for _, _, hits in runs}
            verdict = "exact" if counts == {expected} else f"MISMATCH {counts} vs {expected}"
            found = f"{max(counts)} hits stored and alerted, {verdict}"
            for label, scans in (
                ("new database", [first for first, _, _ in runs]),
                ("same scan again", [again for _, again, _ in runs]),
            ):
                spans = [s.drained for s in scans]
                drained[(n, label)] = min(spans)
                result = found if label == "new database" else "nothing new"
                print(
                    f"| {n} | {label} | {cell([s.whole.wall for s in scans])} | {cell(spans)}"
                    f" | {args.lines / min(spans) / 1e6:.1f} M | {result} |",
                    flush=True,
                )
    for n in args.workers[1:]:
        for label in ("new database", "same scan again"):
            gain = drained[(args.workers[0], label)] / drained[(n, label)]
            print(f"{n} workers against {args.workers[0]}, {label}: {gain:.2f}x (workers' time)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
