"""Scan one file (or archive) with the real feed and match site, no database: print lines, matches, time, RSS as JSON."""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from feeds.reader import FileFeed
from monitor.config import load_config
from monitor.feed import ArchiveLimits, FeedTotals, ReadContext
from monitor.pipeline import matches, screen_for
from monitor.types import Problem
from monitor.victims import Victims
from monitor.watchlist import build_watchlist

BENCH_KEY = b"bench fingerprint key, 32 bytes or more"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", type=Path)
    ap.add_argument("--config", type=Path, required=True)
    ap.add_argument("--span", help="read only this byte range START:STOP of a plain text file")
    ap.add_argument(
        "--threads", type=int, default=0, help="threads reading a plain file (0: one per core)"
    )
    args = ap.parse_args()
    t_start = time.perf_counter()
    watch = build_watchlist(load_config(args.config), key=BENCH_KEY)
    screen_status = ""
    if watch.identity is not None:  # open (or build) the account screen before the clock
        screen_status = watch.identity.open().status
    load_seconds = time.perf_counter() - t_start
    span = None
    if args.span:
        start, stop = (int(x) for x in args.span.split(":"))
        span = (start, stop)
    with tempfile.TemporaryDirectory(prefix="cw-bench-") as work:
        ctx = ReadContext(
            limits=ArchiveLimits(max_ratio=10_000.0),
            passwords=(),
            workdir=Path(work),
            screen=screen_for(watch),
            span=span,
            span_key=f"{args.path}:{args.path.stat().st_size}",
            threads=args.threads or os.cpu_count() or 1,
        )
        totals = FeedTotals()
        records = FileFeed().read(args.path, ctx, totals)
        reasons: Counter[str] = Counter()
        found = problems = 0
        t0 = time.perf_counter()
        lines: list[int] = []
        for item in matches(records, watch, Victims(BENCH_KEY), totals):
            if isinstance(item, Problem):
                problems += 1
                continue
            found += 1
            lines.append(item.credential.line or 0)
            reasons["+".join(sorted(r.value for r in item.reasons))] += 1
        seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss_kb = usage.ru_maxrss
    json.dump(
        {
            "lines": totals.lines,
            "bytes": totals.bytes,
            "matches": found,
            "problems": problems,
            "seconds": seconds,
            "peak_rss_mb": rss_kb / 1024,
            "reasons": dict(reasons),
            "load_seconds": load_seconds,
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "screen": screen_status,
            "hit_lines": sorted(lines),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
