"""Store a batch of matches with multi-row statements, leaving exactly the rows that storing them
one by one, in order, would leave: the same exposures (merged the same way), sightings, reopened
exposures and alerts. The hits of one fingerprint are merged here first, in order, because one
statement may touch a row only once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from monitor.normalize import email_domain, registered_domain
from monitor.store.queries import sql
from monitor.store.records import Recorded
from monitor.store.text import WIDE, db_opt, db_text
from monitor.types import Match


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuedAlert:
    """An alert to queue on one channel ("new", or "updated" with its reason as `event_key`)."""

    exposure_id: int
    channel: str
    event: str
    event_key: str = ""
    origin: str = ""
    summary: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanHit:
    """A hit a scan reports once per exposure and place, with its output row (hints only)."""

    exposure_id: int
    origin: str
    line: int
    row: str


@dataclass(slots=True, kw_only=True)
class _Merged:
    """What the upsert merges of a fingerprint's hits: one hit's, or several merged in order."""

    fingerprint: str
    cookie_expires: datetime | None
    reasons: set[str]
    severity: int
    domain: str | None
    portal: str | None
    partner: str | None
    account_login: str | None
    infected_at: datetime | None
    first_seen: datetime | None
    first_seen_now: bool  # a hit without its own first-seen date: now() counts
    files_dated: datetime | None = None  # the latest of its stealer files' dates

    def copy(self) -> _Merged:
        return _Merged(
            fingerprint=self.fingerprint,
            cookie_expires=self.cookie_expires,
            reasons=set(self.reasons),
            severity=self.severity,
            domain=self.domain,
            portal=self.portal,
            partner=self.partner,
            account_login=self.account_login,
            infected_at=self.infected_at,
            first_seen=self.first_seen,
            first_seen_now=self.first_seen_now,
            files_dated=self.files_dated,
        )

    def merge(self, o: _Merged) -> None:
        """What the upsert's ON CONFLICT rules make of this row when `o` comes after it."""
        self.reasons |= o.reasons
        self.severity = max(self.severity, o.severity)
        self.portal = _coalesce(self.portal, o.portal)
        self.partner = _coalesce(self.partner, o.partner)
        self.account_login = _coalesce(self.account_login, o.account_login)
        self.domain = _coalesce(self.domain, o.domain)
        self.infected_at = _greatest(self.infected_at, o.infected_at)
        self.cookie_expires = _greatest(self.cookie_expires, o.cookie_expires)
        self.first_seen = _least(self.first_seen, o.first_seen)
        self.first_seen_now = self.first_seen_now or o.first_seen_now
        self.files_dated = _greatest(self.files_dated, o.files_dated)


def _coalesce(a: str | None, b: str | None) -> str | None:
    return a if a is not None else b


def _utc(t: datetime | None) -> datetime | None:
    """A moment as PostgreSQL gives it back (a naive one is taken as UTC, as asyncpg does)."""
    if t is None:
        return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _greatest(a: datetime | None, b: datetime | None) -> datetime | None:
    """PostgreSQL's GREATEST: NULLs ignored."""
    if a is None or b is None:
        return a if b is None else b
    return max(a, b)


def _least(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a if b is None else b
    return min(a, b)


def _merged(m: Match, fingerprint: str) -> _Merged:
    c = m.credential
    return _Merged(
        fingerprint=fingerprint,
        cookie_expires=_utc(c.cookie_expires),
        reasons={r.value for r in m.reasons},
        severity=int(m.severity),
        domain=db_opt(m.domain),
        portal=db_opt(m.portal, WIDE),
        partner=db_opt(m.partner),
        account_login=db_opt(m.account.login if m.account else None),
        infected_at=_utc(c.infected_at),
        first_seen=_utc(c.first_seen),
        first_seen_now=c.first_seen is None,
        files_dated=_utc(c.files_dated),
    )


def _own(m: Match, key: bytes) -> tuple[object, ...]:
    """The columns a new exposure takes from its first hit and keeps (after the fingerprint):
    secret_fp, kind, url, host, site, login, login_domain, secret_hint, secret_length,
    cookie_name."""
    c = m.credential
    secret = c.secret
    return (
        secret.fingerprint(key) if secret is not None else None,
        c.kind.value,
        db_text(c.url, WIDE),
        db_text(c.host),
        db_text(registered_domain(c.host)),
        db_text(c.login),
        db_text(email_domain(c.login)),
        db_opt(secret.hint if secret is not None else None),
        len(secret) if secret is not None else None,
        db_opt(c.cookie_name),
    )


def _columns(rows: Sequence[tuple[_Merged, Match]], key: bytes) -> list[list[object]]:
    """The upsert's parameters: one array per column, one element per fingerprint."""
    own = [_own(m, key) for _, m in rows]
    merged = [r for r, _ in rows]
    return [
        [r.fingerprint for r in merged],
        *([o[i] for o in own] for i in range(10)),
        [r.cookie_expires for r in merged],
        [",".join(sorted(r.reasons)) for r in merged],
        [r.severity for r in merged],
        [r.domain for r in merged],
        [r.portal for r in merged],
        [r.partner for r in merged],
        [r.account_login for r in merged],
        [r.infected_at for r in merged],
        [r.first_seen for r in merged],
        [r.first_seen_now for r in merged],
        [r.files_dated for r in merged],
    ]


async def _rekey(
    conn: asyncpg.Connection,
    matches: Sequence[Match],
    fingerprints: Sequence[str],
    key: bytes,
    previous: Sequence[bytes],
) -> None:
    old: list[str] = []
    new: list[str] = []
    secret: list[str | None] = []
    order: list[int] = []
    for m, fp in zip(matches, fingerprints, strict=True):
        s = m.credential.secret
        for k in previous:
            old.append(m.credential.fingerprint(k))
            new.append(fp)
            secret.append(s.fingerprint(key) if s is not None else None)
            order.append(len(order))
    await conn.execute(sql("exposures_rekey_many"), old, new, secret, order)


def _material(
    before: tuple[datetime | None, str | None], hit: _Merged
) -> tuple[str | None, tuple[datetime | None, str | None]]:
    """Why a known exposure deserves a new alert after `hit` (None: it does not), and its
    infection date and portal after it."""
    old_inf, old_portal = before
    new_inf = _greatest(old_inf, hit.infected_at)
    new_portal = _coalesce(old_portal, hit.portal)
    material = None
    if new_inf is not None and (old_inf is None or new_inf > old_inf):
        material = f"newer infection date {new_inf:%Y-%m-%d}"
    elif new_portal and not old_portal:
        material = "now seen on a partner portal"
    return material, (new_inf, new_portal)


async def record_matches(
    conn: asyncpg.Connection,
    matches: Sequence[Match],
    *,
    key: bytes,
    source_id: int | None,
    previous: Sequence[bytes] = (),
) -> list[Recorded]:
    """Upsert the matches' exposures and add their sightings, in one go; what each match did, in
    order. An exposure fingerprinted under one of the `previous` (retired) keys is found and
    re-keyed, never created again. Run inside a transaction."""
    if not matches:
        return []
    fingerprints = [m.credential.fingerprint(key) for m in matches]
    hits = [_merged(m, fp) for m, fp in zip(matches, fingerprints, strict=True)]
    merged: dict[str, tuple[_Merged, Match]] = {}
    for m, h in zip(matches, hits, strict=True):
        first = merged.get(h.fingerprint)
        if first is None:
            merged[h.fingerprint] = (h.copy(), m)
        else:
            first[0].merge(h)
    if previous:
        await _rekey(conn, matches, fingerprints, key, previous)
    stored = await conn.fetch(sql("exposures_upsert_many"), *_columns(list(merged.values()), key))
    by_fp = {r["fingerprint"]: r for r in stored}
    state = {
        fp: (r["old_infected_at"], r["old_portal"]) for fp, r in by_fp.items() if not r["inserted"]
    }
    recorded: list[tuple[int, bool, str | None]] = []  # exposure id, new, material
    announced: set[str] = set()
    reopen: dict[int, str] = {}
    for h in hits:
        row = by_fp[h.fingerprint]
        material = None
        if row["inserted"]:
            # Later hits of an exposure this batch created change nothing an alert would say:
            # its "new" alert still waits (or a suppression kept it from every channel).
            new = h.fingerprint not in announced
            announced.add(h.fingerprint)
        else:
            new = False
            material, state[h.fingerprint] = _material(state[h.fingerprint], h)
            if material:
                reopen.setdefault(int(row["id"]), material)
        recorded.append((int(row["id"]), new, material))
    if reopen:
        await conn.execute(sql("exposures_reopen_many"), list(reopen), list(reopen.values()))
    fresh = await _sightings(conn, matches, [r[0] for r in recorded], source_id)
    return [
        Recorded(exposure_id=eid, new_exposure=new, new_sighting=fresh[i], material=material)
        for i, (eid, new, material) in enumerate(recorded)
    ]


async def _sightings(
    conn: asyncpg.Connection,
    matches: Sequence[Match],
    exposure_ids: Sequence[int],
    source_id: int | None,
) -> list[bool]:
    """Add a sighting per place; whether each match's was new (a place's first match only)."""
    first: dict[tuple[int, str, int], int] = {}
    cols: list[list[object]] = [[] for _ in range(9)]
    for i, (m, eid) in enumerate(zip(matches, exposure_ids, strict=True)):
        c = m.credential
        place = (eid, db_text(c.origin), c.line or 0)
        if place in first:
            continue
        first[place] = i
        victim = c.victim
        for col, value in zip(
            cols,
            (
                eid,
                place[1],
                place[2],
                db_text(c.feed),
                db_text(c.url, WIDE),
                c.infected_at,
                victim.machine_id_hash if victim else None,
                db_opt(victim.family if victim else None),
                db_opt(victim.country if victim else None),
            ),
            strict=True,
        ):
            col.append(value)
    added = await conn.fetch(sql("sightings_add_many"), source_id, *cols)
    fresh = [False] * len(matches)
    for r in added:
        fresh[first[(int(r["exposure_id"]), r["origin"], int(r["line"]))]] = True
    return fresh


async def enqueue_alerts(conn: asyncpg.Connection, alerts: Iterable[QueuedAlert]) -> list[int]:
    """Queue alerts in order (repeats ignored; an "updated" one as `alerts_enqueue_many` says);
    returns the ids queued."""
    rows: list[QueuedAlert] = []
    updated: set[tuple[int, str]] = set()
    for a in alerts:
        if a.event == "updated":
            # A second update in one go would wait behind the first: only the first is tried.
            if (a.exposure_id, a.channel) in updated:
                continue
            updated.add((a.exposure_id, a.channel))
        rows.append(a)
    if not rows:
        return []
    ids = await conn.fetch(
        sql("alerts_enqueue_many"),
        [a.exposure_id for a in rows],
        [a.channel for a in rows],
        [a.event for a in rows],
        [a.event_key for a in rows],
        [db_text(a.origin) for a in rows],
        [db_text(a.summary, WIDE) for a in rows],
    )
    return [int(r["id"]) for r in ids]


async def add_scan_hits(conn: asyncpg.Connection, scan_id: str, hits: Sequence[ScanHit]) -> None:
    """Report hits of a scan, once per exposure and place."""
    seen: set[tuple[int, str, int]] = set()
    rows = []
    for h in hits:
        place = (h.exposure_id, db_text(h.origin, WIDE), h.line)
        if place not in seen:
            seen.add(place)
            rows.append((place, h.row))
    if rows:
        await conn.execute(
            sql("scan_hits_add_many"),
            scan_id,
            [p[0] for p, _ in rows],
            [p[1] for p, _ in rows],
            [p[2] for p, _ in rows],
            [row for _, row in rows],
        )
