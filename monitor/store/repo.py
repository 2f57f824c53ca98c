"""Store one match (exposure + sighting) and queue its alerts on a connection in a transaction."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from monitor.normalize import email_domain, registered_domain
from monitor.store.queries import sql
from monitor.store.records import Recorded
from monitor.store.text import WIDE, db_opt, db_text
from monitor.types import Match


async def record_match(
    conn: asyncpg.Connection,
    m: Match,
    *,
    key: bytes,
    source_id: int | None,
    victim_key: bytes | None = None,
    previous: Sequence[bytes] = (),
) -> Recorded:
    c = m.credential
    secret = c.secret
    fingerprint = c.fingerprint(key)
    secret_fp = secret.fingerprint(key) if secret is not None else None
    if previous:
        await conn.execute(
            sql("exposure_rekey"), fingerprint, secret_fp, [c.fingerprint(k) for k in previous]
        )
    row = await conn.fetchrow(
        sql("upsert_exposure"),
        fingerprint,
        secret_fp,
        c.kind.value,
        db_text(c.url, WIDE),
        db_text(c.host),
        db_text(registered_domain(c.host)),
        db_text(c.login),
        db_text(email_domain(c.login)),
        db_opt(secret.hint if secret is not None else None),
        len(secret) if secret is not None else None,
        db_opt(c.cookie_name),
        c.cookie_expires,
        sorted(r.value for r in m.reasons),
        int(m.severity),
        db_opt(m.domain),
        db_opt(m.portal, WIDE),
        db_opt(m.partner),
        db_opt(m.account.login if m.account else None),
        c.infected_at,
        c.first_seen,
    )
    victim = c.victim
    sighting = await conn.fetchval(
        sql("insert_sighting"),
        row["id"],
        source_id,
        db_text(c.origin),
        c.line or 0,
        db_text(c.feed),
        db_text(c.url, WIDE),
        c.infected_at,
        victim.machine_id_hash if victim else None,
        db_opt(victim.family if victim else None),
        db_opt(victim.country if victim else None),
    )
    material = None
    if not row["inserted"]:
        old_inf, new_inf = row["old_infected_at"], row["infected_at"]
        if new_inf is not None and (old_inf is None or new_inf > old_inf):
            material = f"newer infection date {new_inf:%Y-%m-%d}"
        elif row["portal"] and not row["old_portal"]:
            material = "now seen on a partner portal"
        if material:
            await conn.execute(sql("exposure_reopen"), row["id"], material)
    return Recorded(
        exposure_id=row["id"],
        new_exposure=bool(row["inserted"]),
        new_sighting=sighting is not None,
        material=material,
    )


# events that announce an exposure (a follow-up goes only where one of them went)
FIRST_EVENTS = frozenset({"new", "approval_needed"})


async def enqueue_alert(
    conn: asyncpg.Connection,
    *,
    exposure_id: int,
    channels: Sequence[str],
    event: str,
    event_key: str = "",
    origin: str = "",
    summary: str = "",
) -> list[int]:
    """Queue an alert on each channel; repeats are ignored (unique per exposure/channel/event/key),
    an update waits behind nothing: a pending alert of the exposure already carries it, and a
    follow-up goes only to the channels that announced the exposure."""
    ids = []
    for channel in channels:
        if event == "updated":
            alert_id = await conn.fetchval(
                sql("enqueue_update"),
                exposure_id,
                channel,
                event_key,
                db_text(origin),
                db_text(summary, WIDE),
            )
        else:
            alert_id = await conn.fetchval(
                sql("enqueue_alert" if event in FIRST_EVENTS else "enqueue_followup"),
                exposure_id,
                channel,
                event,
                event_key,
                db_text(origin),
                db_text(summary, WIDE),
            )
        if alert_id is not None:
            ids.append(alert_id)
    return ids
