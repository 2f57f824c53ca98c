"""Identity-watch benchmark: N monitored accounts on an L-line ULP base, side by side with
`grep -F -f logins`, in one run.

    python -m bench.run --identity 1000000 --lines 5000000 [--data bench/data] [--grep-timeout 300]

Rows: compiling the account screen (once, persisted); one `bench/scan_once.py` process (start-up,
screen load, read, screen, parse, match; whole-process wall time); two processes on the two
halves of the file (byte ranges, as two workers would take them), wall time of both; and
`grep -c -F -f logins` under a timeout (its time and peak RSS). Hits are checked against the
generator's truth (planted account lines found, lookalikes not).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

CONFIG = """\
[organisation]
name = "France Travail"
domains = ["francetravail.fr", "pole-emploi.fr"]

[accounts]
file = "{accounts}"
"""


def _row(name: str, seconds: float, lines: int, size: int, result: str, rss: str) -> str:
    rate = f"{lines / seconds / 1e6:.2f} M" if seconds else "-"
    mb = f"{size / seconds / 1e6:.0f}" if seconds else "-"
    return f"| {name} | {seconds:.2f} s | {rate} | {mb} | {rss} | {result} |"


def _scan(corpus: Path, config: Path, span: str | None = None) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "bench.scan_once", str(corpus), "--config", str(config)]
    if span:
        cmd += ["--span", span]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def _verdict(found: list[int], truth: dict[str, object]) -> str:
    hits, looks = set(truth["hits"]), set(truth["lookalikes"])  # type: ignore[call-overload]
    got = set(found)
    if got == hits:
        return f"{len(got)} hits, exact (0 of {len(looks)} lookalikes)"
    return f"{len(got)} hits, MISMATCH: {len(hits - got)} missed, {len(got - hits)} extra"


def run(n_accounts: int, lines: int, data: Path, grep_timeout: float) -> None:
    data.mkdir(parents=True, exist_ok=True)
    corpus = data / f"identity_{n_accounts}_{lines}.txt"
    accounts = data / f"accounts_{n_accounts}.csv"
    logins = data / f"logins_{n_accounts}.txt"
    if not (corpus.exists() and accounts.exists() and logins.exists()):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.gen_identity",
                str(data),
                "--accounts",
                str(n_accounts),
                "--lines",
                str(lines),
            ],
            check=True,
        )
    truth = json.loads(Path(f"{corpus}.truth.json").read_text())
    config = data / f"identity_{n_accounts}.toml"
    config.write_text(CONFIG.format(accounts=accounts.name), encoding="utf-8")
    size = corpus.stat().st_size
    print(f"corpus: {corpus} ({size / 1e6:.0f} MB, {lines} lines), {n_accounts} accounts")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print("| tool | time | lines/s | MB/s | peak RSS | result |")
    print("|---|---|---|---|---|---|")

    screen = accounts.with_name(accounts.name + ".idscreen")
    screen.unlink(missing_ok=True)
    t0 = time.perf_counter()
    build = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json,resource,sys,time;"
            "from bench.scan_once import BENCH_KEY;"
            "from monitor.config import load_config;"
            "from monitor.watchlist import build_watchlist;"
            "w=build_watchlist(load_config(sys.argv[1]),key=BENCH_KEY);o=w.identity.open();"
            "print(json.dumps({'status':o.status,'accounts':len(o.index),"
            "'rss':resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024}))",
            str(config),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    built = json.loads(build.stdout)
    seconds = time.perf_counter() - t0
    print(
        f"| compile the account screen (once; {built['accounts']} accounts, "
        f"{screen.stat().st_size / 1e6:.0f} MB file) | {seconds:.2f} s | | | "
        f"{built['rss']:.0f} MB | {built['status']} |"
    )

    t0 = time.perf_counter()
    one = _scan(corpus, config)
    out, _ = one.communicate()
    wall = time.perf_counter() - t0
    r = json.loads(out)
    print(
        _row(
            "credwatch, 1 process (whole process: start-up and screen load "
            f"{r['load_seconds']:.2f} s, read, screen, parse, match; "
            f"CPU {r['cpu_seconds']:.2f} s)",
            wall,
            lines,
            size,
            _verdict(r["hit_lines"], truth),
            f"{r['peak_rss_mb']:.0f} MB",
        )
    )

    half = size // 2
    t0 = time.perf_counter()
    procs = [_scan(corpus, config, f"0:{half}"), _scan(corpus, config, f"{half}:{size}")]
    results = [json.loads(p.communicate()[0]) for p in procs]
    wall = time.perf_counter() - t0
    found = sorted(x for r in results for x in r["hit_lines"])
    print(
        _row(
            "credwatch, 2 processes (one byte range each), wall time of both "
            f"(CPU {sum(r['cpu_seconds'] for r in results):.2f} s)",
            wall,
            sum(r["lines"] for r in results),
            size,
            _verdict(found, truth),
            f"{max(r['peak_rss_mb'] for r in results):.0f} MB each at most",
        )
    )

    seconds, rss_mb, result = _grep(logins, corpus, data, grep_timeout)
    print(_row("`grep -c -F -f logins`", seconds, lines, size, result, f"{rss_mb:.0f} MB"))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"truth: {json.dumps(truth['hits_by_kind'])}")


def _grep(logins: Path, corpus: Path, data: Path, timeout: float) -> tuple[float, float, str]:
    """Run `grep -c -F -f logins corpus`; its wall time, its own peak RSS (wait4) and result."""
    out_path = data / "grep.out"
    t0 = time.perf_counter()
    with out_path.open("w") as out:
        proc = subprocess.Popen(
            ["grep", "-c", "-F", "-f", str(logins), str(corpus)],
            stdout=out,
            stderr=subprocess.DEVNULL,
            env=dict(os.environ, LC_ALL="C"),
        )
        killed = False
        while True:
            pid, _, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - t0 > timeout and not killed:
                proc.kill()
                killed = True
            time.sleep(0.05)
    proc.returncode = 0  # reaped by wait4
    seconds = time.perf_counter() - t0
    if killed:
        return seconds, usage.ru_maxrss / 1024, f"killed after the {timeout:.0f} s timeout"
    count = out_path.read_text().strip()
    result = f"{count} lines (case-sensitive substrings: lookalikes in, upper case out)"
    return seconds, usage.ru_maxrss / 1024, result
