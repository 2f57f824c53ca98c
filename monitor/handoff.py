"""Items handed from one reading thread to the event loop: bounded, in order, and the loop is
woken only when it is waiting for one (not once per item, which costs a self-pipe write and a
loop turn each)."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Final


class _Empty:
    """What `take` gives when no item came in time."""


EMPTY: Final = _Empty()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class Handoff:
    """A bounded queue from one thread (`put`, which blocks while `size` items wait) to the
    loop that made it (`take_nowait`, `take`)."""

    __slots__ = ("_items", "_lock", "_loop", "_slots", "_waiter")

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int) -> None:
        self._loop = loop
        self._items: deque[object] = deque()
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(size)
        self._waiter: asyncio.Future[None] | None = None

    def put(self, item: object) -> None:
        """In the thread: queue `item`, waiting for a free slot."""
        self._slots.acquire()
        with self._lock:
            self._items.append(item)
            waiter, self._waiter = self._waiter, None
        if waiter is not None:
            self._loop.call_soon_threadsafe(_wake, waiter)

    def take_nowait(self) -> object:
        """In the loop: the next item, or EMPTY."""
        with self._lock:
            if not self._items:
                return EMPTY
            item = self._items.popleft()
        self._slots.release()
        return item

    async def take(self, wait: float | None = None) -> object:
        """In the loop: the next item, waiting `wait` seconds at most (None: for ever);
        EMPTY when none came in time."""
        while True:
            with self._lock:
                if self._items:
                    item = self._items.popleft()
                    self._slots.release()
                    return item
                waiter = self._waiter = self._loop.create_future()
            done, _ = await asyncio.wait((waiter,), timeout=wait)
            if not done:
                with self._lock:
                    if self._waiter is waiter:
                        self._waiter = None
                return self.take_nowait()
