"""The compiled account set: a bloom screen for the chunks, exact HMAC fingerprints behind it.

What a scan process holds for a large account list, without one plaintext login:

- `bloom`: a KeyBloom over the pair key (`monitor.identity_tokens.account_key`) of every
  account the pair key covers — the line-rate screen — and those accounts' e-mail domains
  (only `@`s at such a domain need their local part read; `identity_hyper` finds them);
- `needles`: for the few accounts it cannot cover, a byte string their lines contain;
- the HMAC-SHA256 fingerprint (first 128 bits, keyed by the fingerprint key) of every account,
  sorted (`fp_hi`, `fp_lo`), with each account's partner, identity provider and IdP user id.

`account(login)` is the exact answer: a login is a monitored account only when its fingerprint
is in the sorted array (two fingerprints agree by chance with probability about n / 2^128).
A bloom false positive costs one parsed line and one lookup; it is never reported.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from monitor.bloom import KeyBloom
from monitor.identity_tokens import account_domain, account_key, domain_key, needle_for
from monitor.keyed import keyed_hash
from monitor.types import Account

_ACCOUNT = b"monitored account"
_SEED = b"identity pair key seed"
_MASK64 = (1 << 64) - 1
# The bloom holds CAPACITY_FACTOR x the accounts at ERROR_RATE: 7 slices, each about 1/6 full,
# so the first slice rejects ~83 % of a chunk's pairs and the false-positive rate per pair is
# about 4e-6 (`KeyBloom.expected_fp_rate`); 38 bits (4.8 bytes) per account.
CAPACITY_FACTOR = 4
ERROR_RATE = 0.01


def fingerprint(key: bytes, login: str) -> int:
    """The 128-bit keyed fingerprint of a canonical login."""
    return int(keyed_hash(key, _ACCOUNT, login.encode("utf-8", "surrogateescape"))[:32], 16)


def pair_seed(key: bytes) -> int:
    """The xxh3 seed of pair keys: derived from the fingerprint key, so keys differ per install."""
    return int(keyed_hash(key, _SEED)[:16], 16)


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityIndex:
    key: bytes
    seed: int
    bloom: KeyBloom
    domains: tuple[bytes, ...]  # the covered accounts' e-mail domains (translated), sorted
    domain_keys: frozenset[int]
    fp_hi: Sequence[int]  # sorted by (hi, lo)
    fp_lo: Sequence[int]
    combo: Sequence[int]  # per account: index into `combos`
    combos: tuple[tuple[str | None, str | None], ...]  # (partner, idp)
    id_offsets: Sequence[int]  # per account i: its IdP user id is ids[off[i]:off[i + 1]]
    ids: bytes
    needles: tuple[bytes, ...]
    full_pass: bool  # an account has no needle: every line must be parsed
    scanner_db: bytes = b""  # the domains' Hyperscan database, serialized (identity_hyper)

    def __len__(self) -> int:
        return len(self.fp_hi)

    def account(self, login: str) -> Account | None:
        """The monitored account `login` (canonical) is, or None."""
        if not login:
            return None
        fp = fingerprint(self.key, login)
        hi, lo = fp >> 64, fp & _MASK64
        i = bisect_left(self.fp_hi, hi)
        n = len(self.fp_hi)
        while i < n and self.fp_hi[i] == hi:
            if self.fp_lo[i] == lo:
                partner, idp = self.combos[self.combo[i]]
                user_id = bytes(self.ids[self.id_offsets[i] : self.id_offsets[i + 1]])
                return Account(
                    login=login,
                    partner=partner,
                    idp=idp,
                    idp_user_id=user_id.decode("utf-8") or None,
                )
            i += 1
        return None


def account_domains(accounts: Iterable[Account]) -> tuple[bytes, ...]:
    """The e-mail domains (translated, sorted) of the accounts the pair key covers: the
    `domains` `build_index` gives for the same accounts."""
    found: set[bytes] = set()
    for acc in accounts:
        if account_key(acc.login, 0) is not None:
            found.add(account_domain(acc.login))
    return tuple(sorted(found))


def build_index(accounts: Iterable[Account], key: bytes) -> IdentityIndex:
    """Compile `accounts` (a later entry for the same login wins) for `key`."""
    seed = pair_seed(key)
    fps: list[int] = []  # parallel lists, one entry per row (memory: no dict of a million)
    combo_of_row = array("I")
    user_ids: list[str] = []
    combos: dict[tuple[str | None, str | None], int] = {}
    keys = array("Q")
    domains: set[bytes] = set()
    needles: set[bytes] = set()
    full_pass = False
    for acc in accounts:
        fps.append(fingerprint(key, acc.login))
        combo_of_row.append(combos.setdefault((acc.partner, acc.idp), len(combos)))
        user_ids.append(acc.idp_user_id or "")
        k = account_key(acc.login, seed)
        if k is not None:
            keys.append(k)
            domains.add(account_domain(acc.login))
            continue
        needle = needle_for(acc.login)
        if needle is None:
            full_pass = True
        else:
            needles.add(needle)
    bloom = KeyBloom(capacity=max(len(keys), 1024) * CAPACITY_FACTOR, error_rate=ERROR_RATE)
    bloom.add_keys(keys)
    del keys
    order = sorted(range(len(fps)), key=fps.__getitem__)  # stable: a later row comes later
    fp_hi, fp_lo, combo_of = array("Q"), array("Q"), array("I")
    offsets = array("I", [0])
    ids = bytearray()
    for j, row in enumerate(order):
        fp = fps[row]
        if j + 1 < len(order) and fps[order[j + 1]] == fp:
            continue  # the same login again: the last row wins
        fp_hi.append(fp >> 64)
        fp_lo.append(fp & _MASK64)
        combo_of.append(combo_of_row[row])
        ids += user_ids[row].encode("utf-8")
        offsets.append(len(ids))
    return IdentityIndex(
        key=key,
        seed=seed,
        bloom=bloom,
        domains=tuple(sorted(domains)),
        domain_keys=frozenset(domain_key(d, seed) for d in domains),
        fp_hi=fp_hi,
        fp_lo=fp_lo,
        combo=combo_of,
        combos=tuple(combos),
        id_offsets=offsets,
        ids=bytes(ids),
        needles=tuple(sorted(needles)),
        full_pass=full_pass,
    )
