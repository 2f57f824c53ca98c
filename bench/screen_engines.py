"""The text screen's engines side by side on one thread: the system's Hyperscan library, the
`hyperscan` wheel and the portable screen, over the same blocks of a plain text file (read
once into memory beforehand, so only the screen is timed). Prints a markdown table: GB/s of the
best of `--runs` passes, and the candidate lines found (equal for every engine)."""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.run import CONFIG
from monitor.config import load_config
from monitor.fastscreen import HyperScreen, wheel_scanner
from monitor.pipeline import screen_for
from monitor.screen import ByteScreen
from monitor.watchlist import build_watchlist

KEY = b"bench fingerprint key, 32 bytes or more"
BLOCK = 4 << 20


def blocks(path: Path, limit: int) -> list[bytes]:
    """The file's first `limit` bytes in blocks of whole lines."""
    out: list[bytes] = []
    with path.open("rb") as f:
        carry = b""
        while sum(map(len, out)) < limit:
            data = f.read(BLOCK)
            if not data:
                break
            data = carry + data
            cut = data.rfind(b"\n") + 1
            out.append(data[:cut])
            carry = data[cut:]
    return out


def timed(
    screen: Callable[[bytes], list[int]], chunks: list[bytes], runs: int
) -> tuple[float, int]:
    best, found = float("inf"), 0
    for _ in range(runs):
        t0 = time.perf_counter()
        found = sum(len(screen(c)) for c in chunks)
        best = min(best, time.perf_counter() - t0)
    return best, found


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("bench/data/ulp_20000000.txt"))
    ap.add_argument("--megabytes", type=int, default=512, help="how much of the file to screen")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cw-bench-") as tmp:
        config = Path(tmp) / "credwatch.toml"
        config.write_text(CONFIG, encoding="utf-8")
        watch = build_watchlist(load_config(config), key=KEY)
    screen = screen_for(watch)
    assert isinstance(screen, HyperScreen)
    needles = screen.needles
    chunks = blocks(args.data, args.megabytes << 20)
    size = sum(map(len, chunks))
    engines: dict[str, Callable[[bytes], list[int]]] = {}
    if screen.native:
        engines[f"system Hyperscan ({screen.engine})"] = screen.line_starts
    wheel = HyperScreen(needles, engine=wheel_scanner)
    engines[f"hyperscan wheel ({wheel.engine})"] = wheel.line_starts
    engines["portable (bytes.find)"] = ByteScreen(needles).line_starts
    print(f"{size / 1e6:.0f} MB of {args.data}, needles {list(needles)}, pid {os.getpid()}")
    print("| engine | GB/s (one thread, best) | candidate lines |")
    print("|---|---|---|")
    for name, screen in engines.items():
        seconds, found = timed(screen, chunks, args.runs)
        print(f"| {name} | {size / seconds / 1e9:.2f} | {found:,} |", flush=True)


if __name__ == "__main__":
    main()
