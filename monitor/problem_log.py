"""Bounded logging of a path's problems: the first few one by one, the rest as one summary.

A hostile archive can hold a million broken members (42.zip alone is 65,536): each is still
counted and stored (up to the pipeline's cap), but the log gets at most `LOGGED` lines for
it, then one summary with the count and the commonest reasons.
"""

from __future__ import annotations

import logging
from collections import Counter

from monitor.types import Problem

log = logging.getLogger("monitor.pipeline")

LOGGED = 20
"""Problems of one path logged one by one; past this, they are only summarised."""

_REASONS_SHOWN = 5


class ProblemLog:
    """The log side of one path's problems (`add` each, then `close` once)."""

    __slots__ = ("_feed", "_location", "_logged", "_unlogged")

    def __init__(self, location: str, *, feed: str = "files") -> None:
        self._location = location
        self._feed = feed
        self._logged = 0
        self._unlogged: Counter[str] = Counter()

    def add(self, problem: Problem) -> None:
        if self._logged < LOGGED:
            self._logged += 1
            log.warning(
                "input skipped" if problem.skipped else "input read, its format not recognised",
                extra={"feed": self._feed, "origin": problem.origin, "reason": problem.reason},
            )
        else:
            self._unlogged[problem.reason] += 1

    def close(self) -> None:
        if not self._unlogged:
            return
        log.warning(
            "more input problems",
            extra={
                "feed": self._feed,
                "location": self._location,
                "count": sum(self._unlogged.values()),
                "reasons": dict(self._unlogged.most_common(_REASONS_SHOWN)),
            },
        )
        self._unlogged.clear()
