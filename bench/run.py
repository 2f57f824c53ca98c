"""Benchmark the ULP hot path against grep -F and rg on the same file, in one run.

    python -m bench.run [--lines 10000000] [--data bench/data]
    python -m bench.run --identity 1000000 --lines 5000000   (see bench/identity.py)

Generates the synthetic corpus once (bench/gen_ulp.py), then reports lines/s, MB/s and peak RSS
for credwatch (plain file and the same corpus as one zip member), `grep -F -c` and `rg -c` with a
host-anchored regex, and checks credwatch's hit count against the generator's truth file.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

CONFIG = """\
[organisation]
name = "France Travail"
domains = ["francetravail.fr", "pole-emploi.fr"]
portals = ["https://portail-partenaire.francetravail.fr/kairos"]

[[partners]]
name = "Organisme de formation, Isère"
email_domains = ["formation-isere.example"]
"""
RG_REGEX = (
    r'(?i)^"?([a-z][a-z0-9+.-]*://)?([^/:@|;\t "]*@)?([^/:@|;\t "]*\.)?'
    r'(francetravail\.fr|pole-emploi\.fr)\.?([:/|;\t "]|$)'
)


def row(name: str, seconds: float, lines: int, size: int, result: str, rss: str) -> str:
    return (
        f"| {name} | {seconds:.2f} s | {lines / seconds / 1e6:.2f} M | "
        f"{size / seconds / 1e6:.0f} | {rss} | {result} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--data", type=Path, default=Path("bench/data"))
    ap.add_argument("--no-zip", action="store_true")
    ap.add_argument("--identity", type=int, metavar="N", help="identity watch: N accounts")
    ap.add_argument("--grep-timeout", type=float, default=300.0)
    args = ap.parse_args()
    if args.identity:
        from bench.identity import run

        run(args.identity, args.lines, args.data, args.grep_timeout)
        return
    args.data.mkdir(parents=True, exist_ok=True)
    corpus = args.data / f"ulp_{args.lines}.txt"
    if not corpus.exists() or (not args.no_zip and not Path(f"{corpus}.zip").exists()):
        cmd = [sys.executable, "-m", "bench.gen_ulp", str(corpus), "--lines", str(args.lines)]
        subprocess.run(
            [*cmd, "--seed", "1", *([] if args.no_zip else ["--member-zip"])], check=True
        )
    truth = json.loads(Path(f"{corpus}.truth.json").read_text())
    config = args.data / "bench.toml"
    config.write_text(CONFIG, encoding="utf-8")
    size = corpus.stat().st_size
    lines = args.lines
    print(f"corpus: {corpus} ({size / 1e6:.0f} MB, {lines} lines)")
    print("| tool | time | lines/s | MB/s | peak RSS | result |")
    print("|---|---|---|---|---|---|")

    def credwatch(path: Path, label: str) -> None:
        out = subprocess.run(
            [sys.executable, "-m", "bench.scan_once", str(path), "--config", str(config)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        r = json.loads(out)
        expected = truth.get("hit_lines")
        verdict = "exact" if r["matches"] == expected else f"MISMATCH (expected {expected})"
        print(
            row(
                label,
                r["seconds"],
                r["lines"],
                size,
                f"{r['matches']} hits, {verdict}",
                f"{r['peak_rss_mb']:.0f} MB",
            )
        )

    credwatch(corpus, "credwatch (text file)")
    if not args.no_zip:
        credwatch(Path(f"{corpus}.zip"), "credwatch (zip member)")
    env_c = dict(os.environ, LC_ALL="C")
    for name, cmd in (
        (
            "grep -F -c",
            [
                "grep",
                "-F",
                "-c",
                "-e",
                "francetravail.fr",
                "-e",
                "pole-emploi.fr",
                "-e",
                "formation-isere.example",
                str(corpus),
            ],
        ),
        (
            "rg -F -c",
            [
                "rg",
                "-F",
                "-c",
                "-e",
                "francetravail.fr",
                "-e",
                "pole-emploi.fr",
                "-e",
                "formation-isere.example",
                str(corpus),
            ],
        ),
        ("rg -c host-anchored regex", ["rg", "-c", RG_REGEX, str(corpus)]),
    ):
        if shutil.which(cmd[0]) is None:
            print(f"| {name} | not installed | | | | |")
            continue
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env_c)
        seconds = time.perf_counter() - t0
        if proc.returncode not in (0, 1):
            print(f"| {name} | failed: {proc.stderr.strip()[:80]} | | | | |")
            continue
        print(row(name, seconds, lines, size, f"{proc.stdout.strip()} lines", "-"))
    print(f"truth: {json.dumps(truth.get('hits_by_reason', truth))[:300]}")


if __name__ == "__main__":
    main()
