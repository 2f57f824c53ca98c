"""Store a batch of matches with multi-row statements, leaving exactly the rows that storing them
one by one, in order, would leave: the same exposures (merged the same way), sightings, reopened
exposures and alerts. The hits of one fingerprint are merged here first, in order, because one
statement may touch a row only once."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from monitor.normalize import canonical_host, registered_domain
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
    severity: int | None = None  # the exposure's now (None: read from it)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanHit:
    """A hit a scan reports once per exposure and place, with its output row (hints only)."""

    exposure_id: int
    origin: str
    line: int
    row: str


@dataclass(slots=True)
class _Merged:
    """What the upsert merges of a fingerprint's hits: one hit's, or several merged in order."""

    own: tuple[object, ...]  # the columns a new exposure takes from its first hit (`_own`)
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
    files_dated: datetime | None  # the latest of its stealer files' dates

    def merge(self, m: Match, infected_at: datetime | None, portal: str | None) -> None:
        """What the upsert's ON CONFLICT rules make of this row when `m` comes after it."""
        c = m.credential
        self.reasons.update(r.value for r in m.reasons)
        self.severity = max(self.severity, int(m.severity))
        self.portal = _coalesce(self.portal, portal)
        self.partner = _coalesce(self.partner, db_opt(m.partner))
        login = m.account.login if m.account else None
        self.account_login = _coalesce(self.account_login, db_opt(login))
        self.domain = _coalesce(self.domain, db_opt(m.domain))
        self.infected_at = _greatest(self.infected_at, infected_at)
        self.cookie_expires = _greatest(self.cookie_expires, _utc(c.cookie_expires))
        self.first_seen = _least(self.first_seen, _utc(c.first_seen))
        self.first_seen_now = self.first_seen_now or c.first_seen is None
        self.files_dated = _greatest(self.files_dated, _utc(c.files_dated))


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


def _first(m: Match, key: bytes, infected_at: datetime | None, portal: str | None) -> _Merged:
    c = m.credential
    return _Merged(
        own=_own(m, key),
        cookie_expires=_utc(c.cookie_expires),
        reasons={r.value for r in m.reasons},
        severity=int(m.severity),
        domain=db_opt(m.domain),
        portal=portal,
        partner=db_opt(m.partner),
        account_login=db_opt(m.account.login if m.account else None),
        infected_at=infected_at,
        first_seen=_utc(c.first_seen),
        first_seen_now=c.first_seen is None,
        files_dated=_utc(c.files_dated),
    )


@functools.lru_cache(maxsize=4096)
def _site(host: str) -> str:
    return db_text(registered_domain(host))


@functools.lru_cache(maxsize=4096)
def _login_domain(domain: str) -> str:
    """`email_domain` of a login `…@domain`, for the database."""
    return db_text(canonical_host(domain))


def _own(m: Match, key: bytes) -> tuple[object, ...]:
    """The columns a new exposure takes from its first hit and keeps (after the fingerprint):
    secret_fp, kind, url, host, site, login, login_domain, secret_hint, secret_length,
    cookie_name."""
    c = m.credential
    secret = c.secret
    local, at, domain = c.login.rpartition("@")
    return (
        secret.fingerprint(key) if secret is not None else None,
        c.kind.value,
        db_text(c.url, WIDE),
        db_text(c.host),
        _site(c.host),
        db_text(c.login),
        _login_domain(domain) if at and local else "",
        db_opt(secret.hint if secret is not None else None),
        len(secret) if secret is not None else None,
        db_opt(c.cookie_name),
    )


def _or_null(column: list[object]) -> list[object] | None:
    """A column of NULLs goes as one NULL (the statement's unnest pads it)."""
    return None if column.count(None) == len(column) else column


def _exposure_columns(merged: dict[str, _Merged]) -> list[list[object] | None]:
    """The upsert's parameters: one array per column, one element per fingerprint."""
    rows = merged.values()
    own = [r.own for r in rows]
    cols: list[list[object]] = [
        list(merged),
        *([o[i] for o in own] for i in range(10)),
        [r.cookie_expires for r in rows],
        [",".join(sorted(r.reasons)) for r in rows],
        [r.severity for r in rows],
        [r.domain for r in rows],
        [r.portal for r in rows],
        [r.partner for r in rows],
        [r.account_login for r in rows],
        [r.infected_at for r in rows],
        [r.first_seen for r in rows],
    ]
    now: list[object] = [r.first_seen_now for r in rows]
    return [*(_or_null(c) for c in cols), None if all(now) else now]


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """A batch of matches made ready for the store without asking it: per match its fingerprint,
    infection date and portal (what a known exposure's alert is judged on) and its place; the
    upsert's columns (one row per fingerprint) and the sightings' (one row per place)."""

    fingerprints: list[str]
    infected: list[datetime | None]
    portals: list[str | None]
    places: list[tuple[str, str, int]]
    exposures: list[list[object] | None]
    sightings: list[list[object] | None]
    files_dated: list[object] | None  # per fingerprint, as `exposures` (the statement's last)


def prepare(matches: Sequence[Match], key: bytes) -> Prepared:
    """What `record_matches` stores of `matches`: pure computation, no database."""
    fingerprints: list[str] = []
    infected: list[datetime | None] = []
    portals: list[str | None] = []
    places: list[tuple[str, str, int]] = []
    merged: dict[str, _Merged] = {}
    seen: set[tuple[str, str, int]] = set()
    sightings: list[list[object]] = [[] for _ in range(9)]
    (s_fp, s_origin, s_line, s_feed, s_url, s_inf, s_victim, s_family, s_country) = sightings
    for m in matches:
        c = m.credential
        fp = c.fingerprint(key)
        inf = _utc(c.infected_at)
        portal = db_opt(m.portal, WIDE)
        fingerprints.append(fp)
        infected.append(inf)
        portals.append(portal)
        first = merged.get(fp)
        if first is None:
            merged[fp] = _first(m, key, inf, portal)
        else:
            first.merge(m, inf, portal)
        place = (fp, db_text(c.origin), c.line or 0)
        places.append(place)
        if place in seen:
            continue
        seen.add(place)
        victim = c.victim
        s_fp.append(fp)
        s_origin.append(place[1])
        s_line.append(place[2])
        s_feed.append(db_text(c.feed))
        s_url.append(db_text(c.url, WIDE))
        s_inf.append(c.infected_at)
        s_victim.append(victim.machine_id_hash if victim else None)
        s_family.append(db_opt(victim.family if victim else None))
        s_country.append(db_opt(victim.country if victim else None))
    return Prepared(
        fingerprints=fingerprints,
        infected=infected,
        portals=portals,
        places=places,
        exposures=_exposure_columns(merged),
        sightings=[_or_null(col) for col in sightings],
        files_dated=_or_null([r.files_dated for r in merged.values()]),
    )


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
    before: tuple[datetime | None, str | None], infected_at: datetime | None, portal: str | None
) -> tuple[str | None, tuple[datetime | None, str | None]]:
    """Why a known exposure deserves a new alert after a hit of this infection date and portal
    (None: it does not), and its infection date and portal after it."""
    old_inf, old_portal = before
    new_inf = _greatest(old_inf, infected_at)
    new_portal = _coalesce(old_portal, portal)
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
    prepared: Prepared | None = None,
) -> list[Recorded]:
    """Upsert the matches' exposures and add their sightings, in one go; what each match did, in
    order (`prepared`: `prepare(matches, key)`, when the caller made it already). An exposure
    fingerprinted under one of the `previous` (retired) keys is found and re-keyed, never
    created again. Run inside a transaction."""
    if not matches:
        return []
    p = prepared if prepared is not None else prepare(matches, key)
    if previous:
        await _rekey(conn, matches, p.fingerprints, key, previous)
    rows = await conn.fetch(
        sql("hits_record_many"), *p.exposures, source_id, *p.sightings, p.files_dated
    )
    by_fp: dict[str, tuple[int, bool, int]] = {}
    state: dict[str, tuple[datetime | None, str | None]] = {}
    fresh: set[tuple[int, str, int]] = set()
    for r in rows:
        fp = r[1]
        if fp is None:
            fresh.add((r[0], r[5], r[6]))
            continue
        by_fp[fp] = (r[0], r[2], r[3])
        if not r[2]:
            old = r[4]
            state[fp] = (old[0], old[1]) if old is not None else (None, None)
    recorded: list[Recorded] = []
    announced: set[str] = set()
    reopen: dict[int, str] = {}
    for fp, inf, portal, place in zip(p.fingerprints, p.infected, p.portals, p.places, strict=True):
        eid, inserted, severity = by_fp[fp]
        material = None
        if inserted:
            # Later hits of an exposure this batch created change nothing an alert would say:
            # its "new" alert still waits (or a suppression kept it from every channel).
            new = fp not in announced
            announced.add(fp)
        else:
            new = False
            material, state[fp] = _material(state[fp], inf, portal)
            if material:
                reopen.setdefault(eid, material)
        where = (eid, place[1], place[2])
        first = where in fresh
        fresh.discard(where)  # a place's first match only
        recorded.append(
            Recorded(
                exposure_id=eid,
                new_exposure=new,
                new_sighting=first,
                material=material,
                severity=severity,
            )
        )
    if reopen:
        await conn.execute(sql("exposures_reopen_many"), list(reopen), list(reopen.values()))
    return recorded


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
        [a.severity for a in rows],
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
