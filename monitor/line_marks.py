"""Line counts at range ends, shared through the store by the processes reading one file.

The reading thread asks through the event loop that runs the unit (the loop is free while the
thread reads). A look-up or a note that fails costs only a count of newlines: it is logged and
the reader counts from the nearest point it knows itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

from monitor.store.store import Store

log = logging.getLogger(__name__)

WAIT = 10.0  # seconds a reading thread waits for the store before counting by itself

T = TypeVar("T")


class StoreMarks:
    """`monitor.feed.LineMarks` kept in the store's `line_marks` table."""

    def __init__(self, store: Store, loop: asyncio.AbstractEventLoop) -> None:
        self._store = store
        self._loop = loop

    def _ask(self, coro: Coroutine[Any, Any, T]) -> T | None:
        try:
            return asyncio.run_coroutine_threadsafe(coro, self._loop).result(WAIT)
        except Exception as exc:  # a lost look-up only means counting newlines
            log.warning("line marks unavailable", extra={"error": type(exc).__name__})
            return None

    def nearest(self, key: str, at_byte: int) -> tuple[int, int] | None:
        return self._ask(self._store.line_mark_nearest(key, at_byte))

    def publish(self, key: str, at_byte: int, lines: int) -> None:
        self._ask(self._store.line_mark_add(key, at_byte, lines))
