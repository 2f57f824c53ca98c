"""A scan following its units hands out every hit once, also hits committed late (below the
highest id seen) when there are more than one page of them."""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

from monitor import worker
from monitor.store.records import ScanProgress


class Hits:
    """Hits as the store pages them (ids in order, `limit` a page), with a scan that ends
    after `rounds` looks; ids listed in `late` appear only once it ended."""

    def __init__(self, total: int, late: set[int], rounds: int) -> None:
        self.total, self.late, self.rounds = total, late, rounds
        self.looks = 0

    async def scan_progress(self, scan_id: str) -> ScanProgress:
        self.looks += 1
        closed = 1 if self.looks > self.rounds else 0
        return ScanProgress(units=1, closed=closed, failed=0, lines=0, records=0)

    async def scan_hits(self, scan_id: str, *, after: int, limit: int = 1000) -> list[Any]:
        visible = [
            i
            for i in range(1, self.total + 1)
            if i > after and (i not in self.late or self.looks > self.rounds)
        ]
        return [(i, json.dumps({"id": i})) for i in visible[:limit]]


def test_every_hit_once_with_late_commits_over_several_pages(monkeypatch: Any) -> None:
    monkeypatch.setattr(worker, "FOLLOW_EVERY", 0)
    store = Hits(total=2500, late={7, 1200, 1999}, rounds=2)
    got: list[int] = []
    app = cast(Any, type("App", (), {"store": store})())
    asyncio.run(worker.follow(app, "s", lambda row: got.append(int(str(row["id"])))))
    assert sorted(got) == list(range(1, 2501))
    assert len(got) == len(set(got))
