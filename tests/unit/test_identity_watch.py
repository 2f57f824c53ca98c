"""Identity watch over large account lists: the compiled screen is exact, persisted and never
reports a bloom false positive."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.reader import FileFeed
from monitor import identity_index, identity_screen
from monitor.bloom import KeyBloom
from monitor.config import load_config
from monitor.feed import ArchiveLimits, FeedTotals, ReadContext
from monitor.identity_source import IdentitySource, screen_path
from monitor.identity_tokens import domains_of, pair_keys, reversed_locals
from monitor.pipeline import matches, screen_for
from monitor.types import Match
from monitor.victims import Victims
from monitor.watchlist import IDENTITY_THRESHOLD, Watchlist, build_watchlist

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
CONFIG = """\
[organisation]
name = "Org"
domains = ["org.example"]

[[partners]]
name = "Acme"
email_domains = ["acme.example"]

[accounts]
file = "accounts.csv"
"""


def synthetic_accounts(n: int, *, domains: int = 50, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.choice('abcdefgh')}.staff{i}@org{i % domains}.partner.test" for i in range(n)]


def write_watch(
    tmp: Path, logins: Sequence[str], *, extra_rows: Sequence[str] = (), key: bytes = KEY
) -> Watchlist:
    rows = ["login,partner,idp,idp_user_id", *extra_rows, *logins]
    (tmp / "accounts.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp / "c.toml").write_text(CONFIG, encoding="utf-8")
    return build_watchlist(load_config(tmp / "c.toml"), key=key)


def scan(tmp: Path, watch: Watchlist, lines: Sequence[str], *, screened: bool = True) -> set[int]:
    """Line numbers of the matches of a ULP file made of `lines` (with the watch's screen, or
    parsing every line)."""
    path = tmp / "base.txt"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"))
    ctx = ReadContext(
        limits=ArchiveLimits(),
        passwords=(),
        workdir=tmp,
        screen=screen_for(watch) if screened else None,
    )
    totals = FeedTotals()
    found = matches(FileFeed().read(path, ctx, totals), watch, Victims(KEY), totals)
    return {m.credential.line or 0 for m in found if isinstance(m, Match)}


def test_a_million_accounts_exact_hits_no_lookalike(tmp_path: Path) -> None:
    accounts = synthetic_accounts(1_000_000, domains=5000)
    watch = write_watch(
        tmp_path, accounts, extra_rows=["Élise.Durand@Org77.partner.test,Acme,okta,00u42"]
    )
    assert watch.identity is not None and not watch.accounts  # no plaintext list held
    rng = random.Random(5)
    entries = [(f"https://site{i}.com/login:user{i}@mail.com:pw{i}", False) for i in range(40_000)]
    planted = [
        "https://a.com/login:{a}:Secret1",
        "https://a.com/:{A}:Secret1",
        "https://a.com/ | {a} | Secret1",
        "https://a.com/login\t{a}\tSecret1",
        "{a}:Secret1",
        "{a}:Secret1:https://a.com/",
        '"https://a.com/x":{a}:Secret1',
        "https://a.com/:{pct}:Secret1",
    ]
    lookalikes = [
        "https://a.com/:x{a}:Secret1",
        "https://a.com/:{a}x:Secret1",
        "https://a.com/:{a}.evil.com:Secret1",
        "https://a.com/:someone@mail.com:{a}",
        "https://{a}@b.com/:someone@mail.com:Secret1",
        "https://a.com/:{local}@other.test:Secret1",
    ]
    for shapes, hit in ((planted, True), (lookalikes, False)):
        for shape in shapes:
            for _ in range(20):
                a = rng.choice(accounts)
                line = shape.format(
                    a=a, A=a.upper(), pct=a.replace("@", "%40"), local=a.partition("@")[0]
                )
                entries.insert(rng.randrange(len(entries)), (line, hit))
    entries.insert(123, ("https://a.com/:ÉLISE.DURAND@ORG77.PARTNER.TEST:Secret1", True))
    expected = {n for n, (_, hit) in enumerate(entries, start=1) if hit}
    assert len(expected) == 20 * len(planted) + 1
    assert scan(tmp_path, watch, [line for line, _ in entries]) == expected
    elise = watch.account("élise.durand@org77.partner.test")
    assert elise is not None and (elise.partner, elise.idp, elise.idp_user_id) == (
        "Acme",
        "okta",
        "00u42",
    )
    assert watch.account(accounts[12345]) is not None
    assert watch.account("x" + accounts[12345]) is None


def test_bloom_false_positives_are_never_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bloom so small that nearly every pair passes it: false positives are certain.
    monkeypatch.setattr(identity_index, "CAPACITY_FACTOR", 1)
    monkeypatch.setattr(identity_index, "ERROR_RATE", 0.99)
    accounts = synthetic_accounts(IDENTITY_THRESHOLD * 2)
    watch = write_watch(tmp_path, accounts)
    assert watch.identity is not None
    index = watch.identity.index()
    # Not accounts, at the accounts' domains (so only the bloom can tell them apart).
    others = [f"https://s.com/:nobody{i}@org{i % 50}.partner.test:pw" for i in range(2000)]
    chunk = ("\n".join(others) + "\n").encode()
    translated, domains = domains_of(chunk)
    keys = pair_keys(domains, reversed_locals(translated), index.seed)
    assert len(index.bloom.positives(keys)) > 1000
    screen = screen_for(watch)
    assert screen is not None
    assert len(screen.line_starts(chunk)) > 1000  # the screen lets them through...
    hits = [f"https://s.com/:{accounts[i]}:pw" for i in (3, 77, 1999)]
    lines = [*others[:500], hits[0], *others[500:], hits[1], hits[2]]
    # ...and only the monitored accounts are reported.
    assert scan(tmp_path, watch, lines) == {501, 2002, 2003}


def test_screen_is_reused_while_fresh_and_rebuilt_when_inputs_change(tmp_path: Path) -> None:
    accounts = synthetic_accounts(IDENTITY_THRESHOLD + 10)
    watch = write_watch(tmp_path, accounts)
    assert watch.identity is not None
    assert watch.identity.open().status == "built"
    assert screen_path(tmp_path / "accounts.csv").is_file()

    again = build_watchlist(load_config(tmp_path / "c.toml"), key=KEY)
    assert again.identity is not None
    assert again.identity.open().status == "loaded"
    assert again.account(accounts[7]) is not None

    new = "new.person@fresh.test"
    assert again.account(new) is None
    changed = write_watch(tmp_path, [*accounts, new])
    assert changed.identity is not None
    opened = changed.identity.open()
    assert opened.status == "rebuilt" and "changed" in opened.reason
    assert changed.account(new) is not None

    rekeyed = build_watchlist(load_config(tmp_path / "c.toml"), key=OTHER_KEY)
    assert rekeyed.identity is not None
    assert rekeyed.identity.open().status == "rebuilt"
    assert rekeyed.account(new) is not None

    (tmp_path / "c.toml").write_text(CONFIG.replace("acme.example", "acme2.example"))
    partners = build_watchlist(load_config(tmp_path / "c.toml"), key=OTHER_KEY)
    assert partners.identity is not None
    assert partners.identity.open().status == "rebuilt"


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda b: b[:-7], "checksum mismatch"),
        (lambda b: b[:10], "truncated"),
        (lambda b: b"NOTASCRN" + b[8:], "not a credwatch identity screen"),
        (lambda b: b[:8] + b"\x09" + b[9:], "format 9"),
        (lambda b: b[:-20] + bytes([b[-20] ^ 1]) + b[-19:], "checksum mismatch"),
    ],
)
def test_a_damaged_screen_is_rejected_with_a_reason_and_rebuilt(
    tmp_path: Path, damage: object, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    accounts = synthetic_accounts(IDENTITY_THRESHOLD + 1)
    watch = write_watch(tmp_path, accounts)
    assert watch.identity is not None
    watch.identity.open()
    path = screen_path(tmp_path / "accounts.csv")
    assert callable(damage)
    path.write_bytes(damage(path.read_bytes()))
    source = IdentitySource(
        accounts_file=tmp_path / "accounts.csv",
        inline=(),
        email_domains=watch.email_domains,
        key=KEY,
    )
    with caplog.at_level(logging.WARNING):
        opened = source.open()
    assert opened.status == "rebuilt"
    assert why in opened.reason
    assert any(r.getMessage() == "identity screen rejected" for r in caplog.records)
    assert opened.index.account(accounts[0]) is not None
    # the file was written again, whole: the next start reuses it
    fresh = IdentitySource(
        accounts_file=tmp_path / "accounts.csv",
        inline=(),
        email_domains=watch.email_domains,
        key=KEY,
    )
    assert fresh.open().status == "loaded"


_LOCAL = st.text(alphabet="abcXYZ019._+-", min_size=1, max_size=8)
_DOMAIN = st.from_regex(r"[a-z0-9]{1,6}\.(test|example)", fullmatch=True)
_SHAPE = st.sampled_from(
    [
        "https://a.com/:{a}:pw",
        "https://a.com/login|{a}|pw",
        "https://a.com/ ; {a} ; pw",
        "{a}:pw:https://a.com/",
        "{a};pw",
        "'{a}':pw",
        "https://a.com/:\u00a0{a}\u00a0:pw",
        "https://a.com/:{a}\u0001:pw",
        "https://a.com/:{a_kelvin}:pw",
        "https://a.com/:{a_cr}:pw",
        "https://a.com/:{a_pct}:pw",
        "@{a}:pw",
        "https://a.com/:{a}@{a}:pw",
    ]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pairs_=st.lists(st.tuples(_LOCAL, _DOMAIN), min_size=1, max_size=6),
    shapes=st.lists(_SHAPE, min_size=1, max_size=6),
    case=st.sampled_from([str.lower, str.upper, str.swapcase]),
    path=st.sampled_from(
        [
            (True, identity_screen.LOCAL_BY_LOCAL),
            (False, 0),
            (False, identity_screen.LOCAL_BY_LOCAL),
        ]
    ),
)
def test_the_screen_never_drops_a_line_the_full_parse_matches(
    tmp_path_factory: pytest.TempPathFactory,
    pairs_: list[tuple[str, str]],
    shapes: list[str],
    case: object,
    path: tuple[bool, int],
) -> None:
    """Every path: Hyperscan finds the `@`s at account domains; without it, local parts are read
    one by one, or every `@`'s at once."""
    tmp = tmp_path_factory.mktemp("prop")
    accounts = [f"{lo}@{do}".lower() for lo, do in pairs_]
    filler = synthetic_accounts(IDENTITY_THRESHOLD)
    watch = write_watch(tmp, [*filler, *accounts])
    assert callable(case)
    lines = []
    for i, shape in enumerate(shapes):
        a = case(accounts[i % len(accounts)])
        k = a.replace("k", "\u212a").replace("K", "\u212a")
        lines.append(
            shape.format(a=a, a_kelvin=k, a_cr=a.replace("@", "\r@"), a_pct=a.replace("@", "%40"))
        )
        lines.append(f"https://b.com/:x{a}:pw")
    default = identity_screen.USE_HYPERSCAN, identity_screen.LOCAL_BY_LOCAL
    identity_screen.USE_HYPERSCAN, identity_screen.LOCAL_BY_LOCAL = path
    try:
        assert scan(tmp, watch, lines) == scan(tmp, watch, lines, screened=False)
    finally:
        identity_screen.USE_HYPERSCAN, identity_screen.LOCAL_BY_LOCAL = default


def test_bloom_holds_every_key_and_documents_its_rate() -> None:
    rng = random.Random(3)
    keys = [rng.getrandbits(64) for _ in range(50_000)]
    bloom = KeyBloom(capacity=4 * len(keys), error_rate=0.01)
    bloom.add_keys(keys)
    assert bloom.positives(keys) == list(range(len(keys)))
    assert all(k in bloom for k in keys[:100])  # pybloom-live's own test, same hash family
    others = [rng.getrandbits(64) for _ in range(200_000)]
    assert len(bloom.positives(others)) <= 5  # expected rate ~4e-6
    assert bloom.expected_fp_rate() < 1e-5
    again = KeyBloom.from_bytes(bloom.to_bytes())
    assert again.positives(keys[:10]) == list(range(10))


def test_a_later_row_for_the_same_login_wins(tmp_path: Path) -> None:
    accounts = synthetic_accounts(IDENTITY_THRESHOLD)
    watch = write_watch(
        tmp_path,
        [*accounts, "Dup@Org1.partner.test,Second,entra,id-2"],
        extra_rows=["dup@org1.partner.test,First,okta,id-1"],
    )
    dup = watch.account("dup@org1.partner.test")
    assert dup is not None
    assert (dup.partner, dup.idp, dup.idp_user_id) == ("Second", "entra", "id-2")
    plain = watch.account(accounts[0])
    assert plain is not None and plain.partner is None and plain.idp_user_id is None
