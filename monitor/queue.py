"""The work queue: scan units carried to workers by PGQueuer, a queue in PostgreSQL itself.

The one module that knows PGQueuer. A unit's payload is a path, byte offsets and ids, never a
secret. Units are enqueued on the connection of the transaction that records their source, so
both commit together. A worker that dies holding a unit stops its heartbeat; after
`lease` seconds another worker picks the unit up again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

import asyncpg

log = logging.getLogger(__name__)

CLUSTER = "credwatch_unit"  # the entrypoint every `credwatch worker` serves


def poll_entrypoint(feed: str) -> str:
    """The entrypoint of an API feed's polls: served only by processes that have the feed
    configured (its key stays in their environment)."""
    return f"credwatch_poll_{feed}"


def local_entrypoint(scan_id: str) -> str:
    """The entrypoint of one local scan's units: only that scan's own processes serve it."""
    return f"credwatch_local_{scan_id}"


LOOKUP_LOCAL = "lookup-"  # what a local lookup's id starts with (a scan id is hex)


def lookup_local(lookup_id: int) -> str:
    """The local id (`credwatch worker --local`) of one ad-hoc lookup's own processes."""
    return f"{LOOKUP_LOCAL}{lookup_id}"


def lookup_of_local(local: str) -> int | None:
    """The lookup a local id names; None for a scan's."""
    rest = local.removeprefix(LOOKUP_LOCAL)
    return int(rest) if rest != local and rest.isdigit() else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Unit:
    """One piece of work: a byte range of a text base (`start`/`stop`), a whole path, or,
    with `feed`, one poll of that API feed about the organisation's targets (the feed's name
    only: its credentials stay in the worker's environment)."""

    unit_id: int
    scan_id: str
    source_id: int
    path: str
    identity: str  # the source identity (path, size, mtime) the unit was cut from
    start: int | None = None
    stop: int | None = None
    feed: str = ""

    def encode(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @property
    def dedupe_key(self) -> str:
        return f"unit:{self.unit_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupUnit:
    """One piece of an ad-hoc lookup's read: a byte range of a text base (`start`/`stop`) or a
    whole path, read for `domain` alone. Its findings go back to the lookup (`lookup_id`, its
    audit line) through a transient table; nothing else is written. `salt` (random, not a
    secret) makes the lookup's own fingerprint key with the workers' key."""

    lookup_id: int
    unit_no: int
    domain: str
    path: str
    identity: str  # the path's identity (path, size, mtime) when the unit was cut
    salt: str
    start: int | None = None
    stop: int | None = None

    def encode(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @property
    def dedupe_key(self) -> str:
        return f"lookup:{self.lookup_id}:{self.unit_no}"


def decode(payload: bytes) -> Unit | LookupUnit:
    """A queued unit: a scan's, or an ad-hoc lookup's (its payload names the lookup)."""
    data: dict[str, Any] = json.loads(payload)
    return LookupUnit(**data) if "lookup_id" in data else Unit(**data)


async def install(conn: asyncpg.Connection) -> None:
    """Create PGQueuer's tables, types and triggers (run by the migration step, once)."""
    from pgqueuer.db import AsyncpgDriver
    from pgqueuer.queries import Queries

    await Queries(AsyncpgDriver(conn)).install()


async def enqueue(
    conn: asyncpg.Connection, entrypoint: str, units: Sequence[Unit | LookupUnit]
) -> None:
    """Queue units on `conn`: inside the caller's transaction, they commit with it."""
    if not units:
        return
    from pgqueuer.db import AsyncpgDriver
    from pgqueuer.queries import Queries

    await Queries(AsyncpgDriver(conn)).enqueue(
        [entrypoint] * len(units),
        [u.encode() for u in units],
        [0] * len(units),
        dedupe_key=[u.dedupe_key for u in units],
    )


async def forget(conn: asyncpg.Connection, entrypoints: Sequence[str]) -> None:
    """Drop what is queued under `entrypoints` (a local scan whose process is gone)."""
    if not entrypoints:  # PGQueuer empties the whole queue when given none
        return
    from pgqueuer.db import AsyncpgDriver
    from pgqueuer.queries import Queries

    await Queries(AsyncpgDriver(conn)).clear_queue(list(entrypoints))


Handler = Callable[[Unit | LookupUnit], Awaitable[None]]


async def serve(
    dsn: str,
    entrypoints: str | Sequence[str],
    handle: Handler,
    *,
    lease: float = 30.0,
    drain: bool = False,
) -> None:
    """Take units of `entrypoints` and hand them to `handle` until stopped (or, with `drain`,
    until none is left). A unit's heartbeat is renewed while it runs (and while it waits). A
    process reads one unit at a time and holds at most one more (PgQueuer's floor is twice the
    batch): the others stay for the other processes."""
    from pgqueuer import PgQueuer
    from pgqueuer.models import Job
    from pgqueuer.types import QueueExecutionMode

    conn = await asyncpg.connect(dsn)
    try:
        pgq = PgQueuer.from_asyncpg_connection(conn)

        one = asyncio.Lock()  # one unit read at a time: two would fight over one core

        async def run(job: Job) -> None:
            if job.payload is None:
                return
            async with one:
                await handle(decode(job.payload))

        for name in [entrypoints] if isinstance(entrypoints, str) else entrypoints:
            pgq.entrypoint(name, on_failure="hold")(run)

        await pgq.run(
            batch_size=1,
            max_concurrent_tasks=2,  # PgQueuer's floor (twice the batch): one running, one next
            dequeue_timeout=timedelta(seconds=1),
            mode=QueueExecutionMode.drain if drain else QueueExecutionMode.continuous,
            heartbeat_timeout=timedelta(seconds=lease),
            shutdown_on_listener_failure=True,
            log_aggregation_interval=timedelta(0),
        )
    finally:
        await conn.close()
