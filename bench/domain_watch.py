"""Domain watch, whole processes side by side in one run: `credwatch scan` (a scratch database,
start-up, reading, storing the hits, the console alerts) against `rg` and `grep` on the same file.

    python -m bench.domain_watch [--lines 20000000] [--data bench/data] [--runs 3]

The server comes from CREDWATCH_BENCH_DSN (else CREDWATCH_TEST_DSN). Each run scans into a fresh
scratch database (every hit stored and alerted), then scans the same file again (nothing new,
as a nightly scan of a known library), after one untimed round that warms the page cache. Prints a markdown table: best and median wall time of the runs, lines/s,
CPU (user + system, children included), peak RSS and what each tool reported.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.run import CONFIG
from bench.scratch import bench_dsn, scratch_database

NEEDLES = ("francetravail.fr", "pole-emploi.fr", "formation-isere.example")
KEY = "bench fingerprint key, 32 bytes or more"


@dataclass(frozen=True, slots=True)
class Run:
    wall: float
    cpu: float
    rss_mb: float
    result: str


def timed(cmd: list[str], env: dict[str, str]) -> Run:
    """Run `cmd`: its wall time, and its own CPU time and peak RSS (its reaped descendants
    included, nothing else's)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as errs:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=errs, text=True, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        errs.seek(0)
        stdout, stderr = out.read(), errs.read()
    if proc.returncode not in (0, 1):
        sys.exit(f"{cmd[0]} failed ({proc.returncode}): {stderr.strip()[-400:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return Run(wall, cpu, usage.ru_maxrss / 1024, stdout.strip())


def credwatch_env(target: str, home: Path) -> dict[str, str]:
    """The environment of a benchmarked credwatch process: the scratch database `target`, the
    benchmark's key, `home` as its data directory."""
    return dict(os.environ, CREDWATCH_DSN=target, CREDWATCH_HMAC_KEY=KEY, CREDWATCH_HOME=str(home))


def hits_printed(run: Run) -> int:
    """The hits a `scan --json` run printed (one JSON line each)."""
    return sum(1 for line in run.result.splitlines() if line.startswith("{"))


async def credwatch_runs(
    dsn: str, corpus: Path, config: Path, home: Path, extra: list[str]
) -> tuple[Run, Run, int]:
    """A first scan into a new database (every hit stored and alerted), then the same scan
    again (nothing new: the nightly case). Returns both runs and the first one's hit count."""
    async with scratch_database(dsn) as target:
        env = credwatch_env(target, home)
        cmd = [sys.executable, "-m", "monitor.cli", "scan", "--config", str(config), "--json"]
        first = timed([*cmd, *extra, str(corpus)], env)
        again = timed([*cmd, *extra, str(corpus)], env)
    return first, again, hits_printed(first)


def row(name: str, runs: list[Run], lines: int, result: str) -> str:
    best = min(r.wall for r in runs)
    median = statistics.median(r.wall for r in runs)
    cpu = statistics.median(r.cpu for r in runs)
    rss = max(r.rss_mb for r in runs)
    return (
        f"| {name} | {best:.2f} s | {median:.2f} s | {lines / best / 1e6:.1f} M | "
        f"{cpu:.2f} s | {rss:.0f} MB | {result} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=20_000_000)
    ap.add_argument("--data", type=Path, default=Path("bench/data"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="*", default=[0], help="[scan] threads to try")
    ap.add_argument(
        "--workers", type=int, nargs="*", default=[1], help="`scan --workers` values to try"
    )
    args = ap.parse_args()
    dsn = bench_dsn()
    args.data.mkdir(parents=True, exist_ok=True)
    corpus = args.data / f"ulp_{args.lines}.txt"
    if not corpus.exists():
        gen = [sys.executable, "-m", "bench.gen_ulp", str(corpus), "--lines", str(args.lines)]
        subprocess.run([*gen, "--seed", "1"], check=True)
    truth = json.loads(Path(f"{corpus}.truth.json").read_text())
    needles = args.data / "needles.txt"
    needles.write_text("\n".join(NEEDLES) + "\n", encoding="utf-8")
    size = corpus.stat().st_size
    print(f"corpus: {corpus} ({size / 1e6:.0f} MB, {args.lines} lines), {os.cpu_count()} cores")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print("| tool | best | median | lines/s (best) | CPU | peak RSS | result |")
    print("|---|---|---|---|---|---|---|")
    env_c = dict(os.environ, LC_ALL="C")
    tools = {
        "rg -c -i -F -f needles": ["rg", "-c", "-i", "-F", "-f", str(needles), str(corpus)],
        "grep -c -i -F -f needles": ["grep", "-c", "-i", "-F", "-f", str(needles), str(corpus)],
    }
    with tempfile.TemporaryDirectory(prefix="cw-bench-") as tmp:
        home = Path(tmp)
        for threads, workers in itertools.product(args.threads, args.workers):
            extra = ["--workers", str(workers)]
            config = home / f"bench-{threads}.toml"
            config.write_text(f"{CONFIG}\n[scan]\nthreads = {threads}\n", encoding="utf-8")
            asyncio.run(credwatch_runs(dsn, corpus, config, home, extra))  # warm the page cache
            firsts, agains, counts = [], [], set()
            for _ in range(args.runs):
                first, again, hits = asyncio.run(credwatch_runs(dsn, corpus, config, home, extra))
                firsts.append(first)
                agains.append(again)
                counts.add(hits)
            expected = truth.get("hit_lines")
            verdict = "exact" if counts == {expected} else f"MISMATCH {counts} vs {expected}"
            label = f"`credwatch scan --workers {workers}`, threads = {threads or 'cores'}"
            print(
                row(
                    f"{label}, new database",
                    firsts,
                    args.lines,
                    f"{counts.pop()} hits stored and alerted, {verdict}",
                ),
                flush=True,
            )
            print(row(f"{label}, same scan again", agains, args.lines, "nothing new"), flush=True)
        for name, cmd in tools.items():
            if shutil.which(cmd[0]) is None:
                print(f"| {name} | not installed | | | | | |")
                continue
            runs = [timed(cmd, env_c) for _ in range(args.runs)]
            print(row(name, runs, args.lines, f"{runs[0].result} lines"), flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
