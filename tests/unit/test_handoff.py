"""Items from a reading thread to the loop: in order, bounded, and the loop wakes for them."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from monitor.handoff import EMPTY, Handoff

pytestmark = pytest.mark.asyncio


async def test_items_arrive_in_order_and_wake_a_waiting_loop() -> None:
    handoff = Handoff(asyncio.get_running_loop(), 4)

    def produce() -> None:
        for i in range(1000):
            if i % 97 == 0:
                time.sleep(0.002)  # the loop is waiting by then: it must be woken
            handoff.put(i)

    thread = threading.Thread(target=produce)
    thread.start()
    got = []
    while len(got) < 1000:
        item = handoff.take_nowait()
        if item is EMPTY:
            item = await handoff.take(5.0)
        assert item is not EMPTY
        got.append(item)
    thread.join()
    assert got == list(range(1000))


async def test_a_full_handoff_holds_the_thread_back() -> None:
    handoff = Handoff(asyncio.get_running_loop(), 2)
    done = threading.Event()

    def produce() -> None:
        for i in range(3):
            handoff.put(i)
        done.set()

    thread = threading.Thread(target=produce)
    thread.start()
    await asyncio.sleep(0.05)
    assert not done.is_set()  # the third waits for a slot
    assert handoff.take_nowait() == 0
    await asyncio.to_thread(done.wait, 5.0)
    assert done.is_set()
    thread.join()
    assert [handoff.take_nowait(), handoff.take_nowait()] == [1, 2]


async def test_take_gives_empty_when_nothing_comes_in_time() -> None:
    handoff = Handoff(asyncio.get_running_loop(), 2)
    t0 = time.monotonic()
    assert await handoff.take(0.05) is EMPTY
    assert time.monotonic() - t0 >= 0.04
    assert handoff.take_nowait() is EMPTY
    handoff.put("late")  # a put after a timed-out wait is still taken
    assert await handoff.take(1.0) == "late"
