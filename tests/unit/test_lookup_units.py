"""Lookup units on the queue: told apart from a scan's, named by their lookup, and fingerprinted
under a key of the lookup's own that no worker needs to be sent."""

from __future__ import annotations

from monitor.lookup_work import finding_of_row, found_row, unit_key
from monitor.queue import LookupUnit, Unit, decode, lookup_local, lookup_of_local

KEY = b"k" * 48


def unit(**changes: object) -> LookupUnit:
    fields: dict[str, object] = {
        "lookup_id": 7,
        "unit_no": 3,
        "domain": "partner.example",
        "path": "/dumps/combo.txt",
        "identity": "file:/dumps/combo.txt:10:1",
        "salt": "ab" * 16,
        "start": 0,
        "stop": 4096,
    }
    fields.update(changes)
    return LookupUnit(**fields)  # type: ignore[arg-type]


def test_a_lookup_unit_travels_as_itself_and_a_scan_unit_as_a_scan_unit() -> None:
    u = unit()
    assert decode(u.encode()) == u
    assert decode(unit(start=None, stop=None).encode()) == unit(start=None, stop=None)
    scan = Unit(unit_id=1, scan_id="0123abcd", source_id=2, path="/x", identity="file:/x:1:1")
    assert decode(scan.encode()) == scan
    assert u.dedupe_key != scan.dedupe_key


def test_a_local_id_names_a_lookup_or_a_scan() -> None:
    assert lookup_of_local(lookup_local(42)) == 42
    assert lookup_of_local("0123456789abcdef") is None  # a scan's id
    assert lookup_of_local("lookup-") is None and lookup_of_local("lookup-x1") is None


def test_the_lookups_own_key_is_the_same_on_every_worker_and_differs_per_lookup() -> None:
    assert unit_key(KEY, unit()) == unit_key(KEY, unit(unit_no=9, start=4096, stop=8192))
    assert unit_key(KEY, unit()) != unit_key(KEY, unit(lookup_id=8))
    assert unit_key(KEY, unit()) != unit_key(KEY, unit(salt="cd" * 16))
    assert unit_key(KEY, unit()) != unit_key(b"j" * 48, unit())
    assert len(unit_key(KEY, unit())) == 32 and KEY not in unit_key(KEY, unit())


def test_a_finding_crosses_the_table_unchanged() -> None:
    from datetime import UTC, datetime

    from monitor.domain_lookup import Finding

    f = Finding(
        identity="ff" * 32, kind="password", host="portal.partner.example",
        login="bob@gmail.com", url="https://portal.partner.example/login",
        infected_at=datetime(2025, 3, 14, tzinfo=UTC), family="redline", country="FR",
        machine="aa" * 32, origin="/dumps/logs.zip!PC1/Passwords.txt",
    )  # fmt: skip
    row = found_row(f, line=12, nth=0)
    assert finding_of_row(row) == f
