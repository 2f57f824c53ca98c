"""Write a seeded identity-watch corpus: N monitored accounts, a ULP base with planted account
hits and lookalikes, and its truth file.

    python -m bench.gen_identity OUT_DIR [--accounts 1000000] [--lines 5000000] [--seed 7]
                                         [--hits 1000] [--lookalikes 1000]

`OUT_DIR/accounts_N.csv` (login, partner, idp, idp_user_id): partner staff at 20,000 synthetic
organisation domains (TLDs the background never uses, so no background line holds an account),
a few with accented logins (screened by needles, not by the bloom). `OUT_DIR/logins_N.txt`: the
logins alone (for `grep -F -f`). `OUT_DIR/identity_N_L.txt`: background lines from
bench/gen_ulp.py with planted lines:

- hits (the login is a monitored account): `url:login:pw`, upper case, `|` and ` | `, TAB,
  combo `login:pw`, URL last, quoted URL, `%40`, scheme-less host, an accented account;
- lookalikes (no account is the login): a letter before or after the local part, another TLD,
  the domain extended, the account as the password, the account as URL userinfo.

`...txt.truth.json`: `hit_lines`, `lookalike_lines`, kinds, and every planted line number.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.gen_ulp import _FIRST, _LAST, _SYLLABLES, Pools, _background

_TLDS = ("eu", "lu", "at", "se", "dk", "fi", "pt", "gr", "cz")  # never in gen_ulp's background
CHUNK = 100_000


def _domains(rng: random.Random, n: int) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        name = "".join(rng.choices(_SYLLABLES, k=rng.randint(2, 3)))
        out.add(f"{name}{rng.randint(1, 999)}.{rng.choice(_TLDS)}")
    return sorted(out)


def accounts(rng: random.Random, n: int) -> list[tuple[str, str, str, str]]:
    """(login, partner, idp, idp_user_id) rows, unique logins."""
    domains = _domains(rng, 20_000)
    partner_of = {d: f"Partner {i % 500}" for i, d in enumerate(domains)}
    seen: set[str] = set()
    rows: list[tuple[str, str, str, str]] = []
    accented = max(1, n // 20_000)
    while len(rows) < n:
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        dom = rng.choice(domains)
        if len(rows) < accented:
            login = f"élise.{last}{rng.randint(1, 99999)}@{dom}"
        elif rng.random() < 0.5:
            login = f"{first}.{last}{rng.randint(1, 99999)}@{dom}"
        else:
            login = f"{first[0]}{last}{rng.randint(1, 99999)}@{dom}"
        if login in seen:
            continue
        seen.add(login)
        r = rng.random()
        partner = partner_of[dom] if r < 0.3 else ""
        idp, uid = ("okta", f"00u{rng.getrandbits(64):016x}") if r < 0.1 else ("", "")
        rows.append((login, partner, idp, uid))
    rng.shuffle(rows)
    return rows


Make = Callable[[random.Random, Pools, str], str]


def _url(rng: random.Random, pools: Pools) -> str:
    return f"https://{rng.choice(pools.domains)}{rng.choice(['/', '/login', '/account/login'])}"


HIT_SHAPES: dict[str, Make] = {
    "url_login_pw": lambda r, p, a: f"{_url(r, p)}:{a}:{r.choice(p.clean_passwords)}",
    "upper_case": lambda r, p, a: f"{_url(r, p)}:{a.upper()}:{r.choice(p.clean_passwords)}",
    "pipe": lambda r, p, a: f"{_url(r, p)}|{a}|{r.choice(p.clean_passwords)}",
    "padded_pipe": lambda r, p, a: f"{_url(r, p)} | {a} | {r.choice(p.clean_passwords)}",
    "tab": lambda r, p, a: f"{_url(r, p)}\t{a}\t{r.choice(p.clean_passwords)}",
    "combo": lambda r, p, a: f"{a}:{r.choice(p.clean_passwords)}",
    "url_last": lambda r, p, a: f"{a}:{r.choice(p.clean_passwords)}:{_url(r, p)}",
    "quoted_url": lambda r, p, a: f'"{_url(r, p)}":{a}:{r.choice(p.clean_passwords)}',
    "percent_40": lambda r, p, a: (
        f"{_url(r, p)}:{a.replace('@', '%40')}:{r.choice(p.clean_passwords)}"
    ),
    "schemeless": lambda r, p, a: f"{r.choice(p.domains)}:{a}:{r.choice(p.clean_passwords)}",
}
LOOKALIKE_SHAPES: dict[str, Make] = {
    "letter_before": lambda r, p, a: f"{_url(r, p)}:x{a}:{r.choice(p.clean_passwords)}",
    "letter_after_local": lambda r, p, a: (
        f"{_url(r, p)}:{a.replace('@', 'x@')}:pw{r.randint(1, 99)}"
    ),
    "other_tld": lambda r, p, a: (
        f"{_url(r, p)}:{a.rpartition('.')[0]}.com:{r.choice(p.clean_passwords)}"
    ),
    "domain_extended": lambda r, p, a: f"{_url(r, p)}:{a}.evil.com:{r.choice(p.clean_passwords)}",
    "as_password": lambda r, p, a: f"{_url(r, p)}:{r.choice(p.logins)}:{a}",
    "as_userinfo": lambda r, p, a: f"https://{a}@{r.choice(p.domains)}/:{r.choice(p.logins)}:pw1",
}


def _fields(line: str) -> list[str]:
    return [f.strip().lower() for f in line.replace("|", ":").split(":")]


def generate(
    out_dir: Path, *, n_accounts: int, lines: int, seed: int, hits: int, lookalikes: int
) -> dict[str, object]:
    rng = random.Random(seed)
    rows = accounts(rng, n_accounts)
    acc_path = out_dir / f"accounts_{n_accounts}.csv"
    with acc_path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("login,partner,idp,idp_user_id\n")
        fh.writelines(f"{a},{p},{i},{u}\n" for a, p, i, u in rows)
    (out_dir / f"logins_{n_accounts}.txt").write_text(
        "".join(f"{a}\n" for a, _, _, _ in rows), encoding="utf-8"
    )
    logins = {a for a, _, _, _ in rows}
    accented = [a for a, _, _, _ in rows if not a.isascii()]
    plain = [a for a, _, _, _ in rows if a.isascii()]
    pools = Pools(rng, 200_000)
    spots = rng.sample(range(lines), hits + lookalikes)
    plan: dict[int, tuple[bool, str]] = {}
    hit_kinds = [*HIT_SHAPES, "accented_account"]
    for k, spot in enumerate(spots):
        if k < hits:
            plan[spot] = (True, hit_kinds[k % len(hit_kinds)])
        else:
            plan[spot] = (False, list(LOOKALIKE_SHAPES)[k % len(LOOKALIKE_SHAPES)])
    corpus = out_dir / f"identity_{n_accounts}_{lines}.txt"
    hit_lines: list[tuple[int, str]] = []
    look_lines: list[tuple[int, str]] = []
    size = 0
    with corpus.open("wb") as fh:
        for start in range(0, lines, CHUNK):
            n = min(CHUNK, lines - start)
            block = _background(rng, pools, n)
            for spot in [s for s in plan if start <= s < start + n]:
                is_hit, kind = plan[spot]
                if kind == "accented_account":
                    line = HIT_SHAPES["url_login_pw"](rng, pools, rng.choice(accented).upper())
                elif is_hit:
                    line = HIT_SHAPES[kind](rng, pools, rng.choice(plain))
                else:
                    while True:  # a lookalike whose login happens to be an account is no lookalike
                        line = LOOKALIKE_SHAPES[kind](rng, pools, rng.choice(plain))
                        if kind == "as_password" or not logins.intersection(_fields(line)):
                            break
                block[spot - start] = line
                (hit_lines if is_hit else look_lines).append((spot + 1, kind))
            data = ("\n".join(block) + "\n").encode("utf-8")
            fh.write(data)
            size += len(data)
    truth: dict[str, object] = {
        "accounts": n_accounts,
        "lines": lines,
        "bytes": size,
        "seed": seed,
        "hit_lines": len(hit_lines),
        "hits_by_kind": dict(sorted(Counter(k for _, k in hit_lines).items())),
        "lookalike_lines": len(look_lines),
        "lookalikes_by_kind": dict(sorted(Counter(k for _, k in look_lines).items())),
        "hits": sorted(line for line, _ in hit_lines),
        "lookalikes": sorted(line for line, _ in look_lines),
    }
    Path(f"{corpus}.truth.json").write_text(json.dumps(truth) + "\n", encoding="utf-8")
    return truth


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.gen_identity")
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--lines", type=int, default=5_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--hits", type=int, default=1000)
    ap.add_argument("--lookalikes", type=int, default=1000)
    args = ap.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    truth = generate(
        args.out_dir,
        n_accounts=args.accounts,
        lines=args.lines,
        seed=args.seed,
        hits=args.hits,
        lookalikes=args.lookalikes,
    )
    print(
        f"{args.out_dir}: {args.accounts} accounts, {truth['lines']} lines, "
        f"{truth['hit_lines']} hits, {truth['lookalike_lines']} lookalikes "
        f"in {time.perf_counter() - t0:.1f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
