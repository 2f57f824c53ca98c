"""Scan one file (or archive) with the real reader, no database: print lines, matches, time, RSS as JSON."""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from feeds.reader import PathReader, ReadSettings, settings_screen
from monitor.config import load_config
from monitor.feed import ArchiveLimits
from monitor.types import Problem
from monitor.watchlist import build_watchlist


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", type=Path)
    ap.add_argument("--config", type=Path, required=True)
    args = ap.parse_args()
    watch = build_watchlist(load_config(args.config))
    with tempfile.TemporaryDirectory(prefix="cw-bench-") as work:
        settings = ReadSettings(
            watch=watch,
            key=b"b" * 32,
            limits=ArchiveLimits(max_ratio=10_000.0),
            passwords=(),
            workdir=Path(work),
            screen=settings_screen(watch),
        )
        reader = PathReader(settings)
        reasons: Counter[str] = Counter()
        matches = problems = 0
        t0 = time.perf_counter()
        for item in reader.run(args.path):
            if isinstance(item, Problem):
                problems += 1
                continue
            matches += 1
            reasons["+".join(sorted(r.value for r in item.reasons))] += 1
        seconds = time.perf_counter() - t0
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    json.dump(
        {
            "lines": reader.totals.lines,
            "bytes": reader.totals.bytes,
            "matches": matches,
            "problems": problems,
            "seconds": seconds,
            "peak_rss_mb": rss_kb / 1024,
            "reasons": dict(reasons),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
