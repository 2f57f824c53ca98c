"""What a killed process leaves behind, dealt with when the next one starts: its spool files
removed, its unfinished sources marked `interrupted` (shown by `credwatch status`).

A source read by one process names it (`monitor/proc.py`); one whose process is gone is not
running any more. Sources on the shared queue have no owner: the queue resumes their units.
A file is read again whole by the next scan or drop-folder tick (sightings and alerts are
unique on what was found, so nothing is stored twice).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from monitor import proc, spool
from monitor.store.store import Store

log = logging.getLogger(__name__)


async def clear(store: Store, workdir: Path) -> None:
    await asyncio.to_thread(spool.sweep, workdir)
    await interrupt_orphans(store)


async def interrupt_orphans(store: Store) -> int:
    """Mark the running sources of this host's stopped processes `interrupted`."""
    gone = []
    for source_id, text in await store.running_owned_sources():
        owner = proc.Owner.parse(text)
        if owner is not None and proc.alive(owner) is False:
            gone.append(source_id)
    n = await store.interrupt_sources(gone, "the process reading it stopped")
    if n:
        log.warning("interrupted sources found", extra={"sources": n})
    return n
