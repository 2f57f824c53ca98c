"""The sightings a person is shown at the end of a scan: the most severe ones, a bounded number.

A scan of a large text base can find hundreds of thousands of lines. Holding every row for a
table would grow with the input, and a table that long helps nobody: the terminal shows the
`TABLE_ROWS` most severe sightings (the first found among equals) and says how many more there
are. `--json` streams every one as it is found; `credwatch report` lists the exposures.
"""

from __future__ import annotations

import heapq
import json
import sys
from typing import Any

from monitor.types import Severity, skipped

TABLE_ROWS = 100


class ShownSightings:
    """Keeps the `limit` most severe of the rows added, in memory that does not grow."""

    __slots__ = ("_heap", "_limit", "_seen")

    def __init__(self, limit: int = TABLE_ROWS) -> None:
        self._limit = limit
        self._seen = 0
        # (severity, -order, row): the heap's smallest is the least severe, latest found.
        self._heap: list[tuple[int, int, dict[str, Any]]] = []

    def add(self, row: dict[str, Any]) -> None:
        self._seen += 1
        item = (int(Severity.parse(row["severity"])), -self._seen, row)
        if len(self._heap) < self._limit:
            heapq.heappush(self._heap, item)
        elif item[:2] > self._heap[0][:2]:
            heapq.heapreplace(self._heap, item)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rows kept: most severe first, then in the order they were found."""
        return [row for _, _, row in sorted(self._heap, key=lambda i: (-i[0], -i[1]))]

    @property
    def more(self) -> int:
        """How many rows were added but not kept."""
        return self._seen - len(self._heap)


class SkippedInputs:
    """The inputs a scan skipped (or read without recognising their format), as its summary
    shows them: a count per reason and the first `shown` origins of each, in memory that grows
    with the reasons (a few constant texts), not with the inputs."""

    __slots__ = ("_by_reason", "_shown", "skipped", "unrecognised")

    def __init__(self, shown: int = 3) -> None:
        self._shown = shown
        self._by_reason: dict[str, tuple[int, list[str]]] = {}
        self.skipped = 0
        self.unrecognised = 0  # read all the same

    def add(self, origin: str, reason: str) -> None:
        if skipped(reason):
            self.skipped += 1
        else:
            self.unrecognised += 1
        n, origins = self._by_reason.get(reason, (0, []))
        if len(origins) < self._shown:
            origins.append(origin)
        self._by_reason[reason] = (n + 1, origins)

    @property
    def summary(self) -> str:
        """`N input(s) skipped`, and how many were read in a format not recognised."""
        read = f", {self.unrecognised} read in a format not recognised" if self.unrecognised else ""
        return f"{self.skipped} input(s) skipped{read}"

    @property
    def rows(self) -> list[tuple[str, int, list[str]]]:
        """(reason, count, first origins), the most frequent reason first."""
        ranked = sorted(self._by_reason.items(), key=lambda kv: (-kv[1][0], kv[0]))
        return [(reason, n, origins) for reason, (n, origins) in ranked]


class ScanOutput:
    """What a scan prints, however it was run (here, on local processes or on the cluster):
    each sighting as it is stored (a JSON line with `--json`, else kept for the table), then at
    the end the table, the skipped inputs and one summary line."""

    __slots__ = ("_as_json", "exposures", "shown", "skipped")

    def __init__(self, *, as_json: bool) -> None:
        self._as_json = as_json
        self.exposures: set[int] = set()
        self.shown = ShownSightings()
        self.skipped = SkippedInputs()

    def sighting(self, row: dict[str, Any]) -> None:
        """One sighting, as `scan --json` prints it."""
        self.exposures.add(int(row["exposure_id"]))
        if self._as_json:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            self.shown.add(row)

    def finish(self, scanned: str) -> int:
        """Print the end of the scan after `scanned` (what was read); returns the number of
        exposures found."""
        from monitor import output

        if not self._as_json:
            output.print_sightings(self.shown)
        output.print_problems(self.skipped)
        output.err.print(
            f"{scanned}; {len(self.exposures)} exposure(s) found; {self.skipped.summary}",
            style="dim",
        )
        return len(self.exposures)
