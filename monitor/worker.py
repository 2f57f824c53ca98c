"""Workers: processes that take scan units from the queue, and a scan that follows its units.

`credwatch worker` serves the cluster's queue; a local `credwatch scan` queues its units under
its own entrypoint and starts one worker process per core to drain them. Either way the units'
hits are written with their sightings and the scan command prints them as they arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from monitor import output, proc, queue
from monitor.app import App
from monitor.pipeline import OnSighting, Sighting
from monitor.store import db
from monitor.store.records import ScanProgress

log = logging.getLogger(__name__)

FOLLOW_EVERY = 0.05  # seconds between two looks at a scan's progress (two small queries)
DEFAULT_RANGE = 64 << 20  # bytes of a text base per unit, at most (automatic size)
MIN_RANGE = 4 << 20  # ...and at least: below, a unit's fixed costs show
UNITS_PER_PROCESS = 8
LOCAL_LEASE = 10.0  # seconds: a local unit whose process died is taken over after this


def new_scan_id() -> str:
    return uuid.uuid4().hex[:16]


def report(s: Sighting) -> str:
    """A sighting as `scan --json` prints it (hints only, never a secret)."""
    return json.dumps(output.sighting_json(s), ensure_ascii=False)


def entrypoints(app: App, entrypoint: str) -> list[str]:
    """What a process serves: `entrypoint`, and the polls of the API feeds it has."""
    return [entrypoint, *(queue.poll_entrypoint(name) for name in sorted(app.api_feeds))]


async def serve(
    app: App,
    entrypoint: str | Sequence[str],
    *,
    lease: float,
    drain: bool,
    on_sighting: OnSighting | None = None,
    hold: Callable[[], AbstractAsyncContextManager[object]] | None = None,
) -> None:
    """Serve units of `entrypoint` in this process until stopped (or drained). `hold`, when
    given, is entered around each unit (a daemon's one-thing-at-a-time lock)."""
    dsn = (await asyncio.to_thread(db.resolve_target)).dsn

    async def handle(unit: queue.Unit | queue.LookupUnit) -> None:
        if isinstance(unit, queue.LookupUnit):  # an ad-hoc lookup's: read, nothing stored
            from monitor import lookup_work

            async with hold() if hold is not None else contextlib.nullcontext():
                await lookup_work.run_unit(app, unit)
            return
        log.info("unit taken", extra={"unit": unit.unit_id, "scan": unit.scan_id})
        async with hold() if hold is not None else contextlib.nullcontext():
            await app.scanner.run_unit(
                unit, report=report, api_feeds=app.api_feeds, on_sighting=on_sighting
            )

    await queue.serve(dsn, entrypoint, handle, lease=lease, drain=drain)


class LocalDrain:
    """This process taking its own share of a local scan's or lookup's units beside the other
    processes it started: drained again while units are left, cancelled once all are closed."""

    def __init__(self, app: App, entrypoint: str) -> None:
        self._app = app
        self._entrypoint = entrypoint
        self._tasks: list[asyncio.Task[None]] = []

    def keep_going(self) -> None:
        """Drain again unless a drain is still running."""
        if not self._tasks or self._tasks[-1].done():
            drain = serve(self._app, self._entrypoint, lease=LOCAL_LEASE, drain=True)
            self._tasks.append(asyncio.create_task(drain))

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def spawn(count: int, args: Sequence[str]) -> list[subprocess.Popen[bytes]]:
    """Start `count` worker processes (`credwatch worker --concurrency 1 ARGS`)."""
    cmd = [sys.executable, "-m", "monitor.cli", "worker", "--concurrency", "1", *args]
    return [subprocess.Popen(cmd) for _ in range(count)]


class Child(Protocol):
    """A process started here: a `subprocess.Popen`, or a `Forked` copy of this one."""

    def poll(self) -> int | None: ...
    def send_signal(self, sig: int) -> None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def kill(self) -> None: ...


class Forked:
    """A copy of this process started by `fork`, handled as a `subprocess.Popen` is."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: gone all the same
                self.returncode = -1
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def wait(self, timeout: float | None = None) -> int:
        end = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if end is not None and time.monotonic() >= end:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0.0)
            time.sleep(0.01)
        return code

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def preload() -> None:
    """Load what a scanning process needs before copies of this one are forked (each copy then
    starts with it instead of loading it again)."""
    import pgqueuer  # noqa: F401  (the queue's library: its import is a tenth of a second)

    import monitor.app  # noqa: F401


def fork(count: int, body: Callable[[], object]) -> list[Forked]:
    """Start `count` copies of this process that run `body` and exit. Call before any thread,
    event loop or connection exists (a copy shares nothing of them)."""
    children: list[Forked] = []
    for _ in range(count):
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the copy: never returns into the caller's code
            code = 1
            try:
                body()
                code = 0
            except BaseException as exc:  # its own failure: told on stderr, with its exit code
                code = getattr(exc, "exit_code", None) or getattr(exc, "code", None) or 1
                code = code if isinstance(code, int) else 1
                if not isinstance(exc, SystemExit) and code == 1:
                    log.exception("local worker failed")
            finally:
                sys.stderr.flush()
                os._exit(code)
        children.append(Forked(pid))
    return children


def stop(procs: Sequence[Child]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def worker_args(config: Path, *, lease: float, local: str = "", share: int = 0) -> list[str]:
    """The options of a spawned worker; `share`: how many scanning processes share this host's
    cores (see `share_cores`)."""
    args = ["--config", str(config), "--lease", str(lease)]
    args = [*args, "--share", str(share)] if share > 1 else args
    return [*args, "--local", local] if local else args


def share_cores(app: App, processes: int) -> None:
    """This process is one of `processes` scanning on this host: it reads a file with its share
    of the cores (cores / processes threads, at least one) rather than a thread per core each,
    which would put several threads on each core. A `[scan] threads` set in the config stands."""
    if processes > 1 and not app.config.scan.threads:
        threads = max(1, proc.cores() // processes)
        app.scanner.context = replace(app.scanner.context, threads=threads)


async def follow(
    app: App,
    scan_id: str,
    on_row: Callable[[dict[str, object]], None],
    *,
    keep_going: Callable[[], None] | None = None,
) -> ScanProgress:
    """Hand each hit of the scan to `on_row` as it is written, until every unit is closed.
    `keep_going` is called on each round (to restart local workers that exited early)."""
    last, seen = 0, set[int]()
    while True:
        progress = await app.store.scan_progress(scan_id)
        # Ids are taken before commit: a hit committed late can sit below `last`, so the last
        # round, once every unit is closed, reads them all again and hands out the unseen ones.
        after = 0 if progress.finished else last
        while True:
            rows = await app.store.scan_hits(scan_id, after=after)
            for hit_id, row in rows:  # in id order: the next page starts after this one
                after, last = hit_id, max(last, hit_id)
                if hit_id not in seen:
                    seen.add(hit_id)
                    on_row(json.loads(row))
            if len(rows) < 1000:
                break
        if progress.finished:
            return progress
        if keep_going is not None:
            keep_going()
        await asyncio.sleep(FOLLOW_EVERY)


def units_hint(paths: Sequence[Path], range_size: int) -> int:
    """About how many units `paths` make (no more processes than units are started)."""
    count = 0
    for p in paths:
        try:
            size = p.stat().st_size if p.is_file() else 0
        except OSError:
            size = 0
        count += max(1, -(-size // max(1, range_size)))
    return count


async def until_queued(app: App, local: str, *, patience: float = 120.0) -> None:
    """Wait until the scan (or ad-hoc lookup) a local worker serves has queued units (a local
    worker starts with its scan)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + patience
    lookup_id = queue.lookup_of_local(local)
    while loop.time() < end:
        if lookup_id is not None:
            if (await app.store.lookup_rows().progress(lookup_id)).units:
                return
        elif (await app.store.scan_progress(local)).units:
            return
        await asyncio.sleep(0.05)


def range_for(paths: Sequence[Path], processes: int) -> int:
    """Bytes per unit when none was asked for: about UNITS_PER_PROCESS units per process over
    the whole input (so a process that started late or reads a slow part is not waited for),
    between MIN_RANGE and DEFAULT_RANGE."""
    total = 0
    for p in paths:
        with contextlib.suppress(OSError):
            total += p.stat().st_size if p.is_file() else 0
    share = total // max(1, processes * UNITS_PER_PROCESS)
    return max(MIN_RANGE, min(DEFAULT_RANGE, share))
