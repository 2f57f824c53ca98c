"""Queue an exposure's alerts on a connection in a transaction."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from monitor.store import batch
from monitor.store.batch import QueuedAlert
from monitor.store.queries import sql
from monitor.store.text import WIDE, db_text

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
    follow-up goes only to the channels that announced the exposure. An exposure purged
    meanwhile gets nothing (the rows of a hit, written with its upsert, need no such hold)."""
    if await conn.fetchval(sql("exposure_hold"), exposure_id) is None:
        return []
    ids = []
    for channel in channels:
        if event == "updated":
            queued = await batch.enqueue_alerts(
                conn,
                [
                    QueuedAlert(
                        exposure_id=exposure_id,
                        channel=channel,
                        event=event,
                        event_key=event_key,
                        origin=origin,
                        summary=summary,
                    )
                ],
            )
            alert_id = queued[0] if queued else None
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
