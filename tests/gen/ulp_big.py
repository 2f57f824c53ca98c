"""A large generated ULP text base with planted hits on watched hosts (CRLF and LF mixed)."""

from __future__ import annotations

import random
from pathlib import Path


def write_ulp(path: Path, *, lines: int, hits: int, seed: int = 7) -> int:
    """Write `lines` lines, `hits` of them on watched hosts; returns the number of hits."""
    rnd = random.Random(seed)
    planted = set(rnd.sample(range(lines), hits))
    with path.open("wb") as f:
        for i in range(lines):
            eol = b"\r\n" if i % 3 == 0 else b"\n"
            if i in planted:
                row = f"https://candidat.francetravail.fr/login:user{i}@mail.example:Pw{i}x!"
            else:
                row = f"https://shop{i % 977}.example.org/account:buyer{i}@mail.example:pass{i}"
            f.write(row.encode() + eol)
    return len(planted)
