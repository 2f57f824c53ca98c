"""Processes of this host: who we are, and whether the owner of a leftover is still alive.

A process is named by host, pid and the pid's start time, so a pid reused by a later process
is never mistaken for the one that left something behind.
"""

from __future__ import annotations

import functools
import os
import socket
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Owner:
    host: str
    pid: int
    started: int  # the pid's start time in clock ticks since boot (0 when unknown)

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.started}"

    @classmethod
    def parse(cls, text: str) -> Owner | None:
        host, _, rest = text.rpartition(":")
        host, _, pid = host.rpartition(":")
        if not host or not pid.isdigit() or not rest.isdigit():
            return None
        return cls(host=host, pid=int(pid), started=int(rest))


def start_ticks(pid: int) -> int | None:
    """When `pid` started (clock ticks since boot): 0 where /proc is missing, None when no
    such process exists."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except FileNotFoundError:
        return None
    except OSError:
        return 0 if _exists(pid) else None
    # The command name (field 2) may hold spaces and parentheses: count from its closing one.
    fields = stat[stat.rfind(b")") + 2 :].split()
    return int(fields[19]) if len(fields) > 19 else 0


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@functools.cache
def host() -> str:
    """This host as far as pids go: the host name and the pid namespace (containers sharing
    a host name never see each other's pids)."""
    try:
        ns = os.readlink("/proc/self/ns/pid").removeprefix("pid:").strip("[]")
    except OSError:
        ns = ""
    return f"{socket.gethostname()}/{ns}" if ns else socket.gethostname()


def me() -> Owner:
    pid = os.getpid()
    return Owner(host=host(), pid=pid, started=start_ticks(pid) or 0)


def alive(owner: Owner) -> bool | None:
    """Is the owner still running? None when it ran on another host (this one cannot tell)."""
    if owner.host != host():
        return None
    now = start_ticks(owner.pid)
    if now is None:
        return False
    return owner.started == 0 or now == 0 or now == owner.started


def boot_time() -> float | None:
    """The host's boot time (seconds since the epoch), None where /proc is missing."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            for line in f:
                if line.startswith("btime "):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


def started_at(pid: int) -> float | None:
    """When `pid` started, in seconds since the epoch; None when unknown or gone."""
    ticks, boot = start_ticks(pid), boot_time()
    if not ticks or boot is None:
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def cores() -> int:
    """The cores this process may run on."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
