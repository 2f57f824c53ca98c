"""The feed contract: sources of leaked-credential records. Feeds produce; they never match or store.

A feed yields `LeakedCredential`, `VictimInfo` and `Problem` records (monitor.types). The
pipeline is the one place that matches them against the watchlist, groups a stealer log's
records by victim, stores and alerts. Two shapes:

- `PathFeed` reads files, folders and archives given by path. Its `read` blocks (the pipeline
  runs it in a worker thread) and applies the `screen` it is handed to skip lines that cannot
  match — a prefilter only: it never decides what matches.
- `ApiFeed` asks an exposure API about the organisation's `Targets`, asynchronously.

Both are registered under the `credwatch.feeds` entry points and built by `from_config`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

from monitor.types import LeakedCredential, Problem, VictimInfo


class Screen(Protocol):
    """A prefilter over chunks of whole lines (see monitor.screen.ByteScreen)."""

    def line_starts(self, chunk: bytes) -> list[int]:
        """Sorted start offsets of the lines in `chunk` (whole lines) that may match."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveLimits:
    """Caps that keep a hostile archive from exhausting memory, disk or time.

    `max_ratio` is enforced once a member (or a compressed layer) has produced more than
    `ratio_floor` bytes, so small, very compressible text files are not mistaken for bombs.
    """

    max_depth: int = 4
    max_member_size: int = 4 << 30
    max_total_size: int = 64 << 30
    max_ratio: float = 200.0
    max_members: int = 1_000_000
    ratio_floor: int = 1 << 20


class LineMarks(Protocol):
    """Line counts at line starts of files, shared by every process reading ranges of them
    (through the store): a range is numbered from the nearest point another process has read
    to instead of counting from the head of the file. Called from a reading thread."""

    def nearest(self, key: str, at_byte: int) -> tuple[int, int] | None:
        """The known (line start, lines before it) nearest at or before `at_byte`."""
        ...

    def publish(self, key: str, at_byte: int, lines: int) -> None:
        """Tell the others that `lines` lines come before line start `at_byte`."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadContext:
    """What the core hands a path feed for one scan."""

    limits: ArchiveLimits
    passwords: tuple[str, ...]  # tried on encrypted archives
    workdir: Path  # the only place a feed may write (nested archives)
    max_line: int = 1 << 20
    member_cpu_seconds: float = 120.0  # the watchdog's budget per member (feeds.watchdog)
    screen: Screen | None = None  # None: every line is parsed (huge account lists)
    progress: Callable[[int], None] | None = None  # told of text bytes read (progress bars)
    span: tuple[int, int] | None = None  # read only this byte range of a plain text file
    span_key: str = ""  # the file's identity (path, size, mtime): what line counts are cached under
    threads: int = 1  # threads reading one plain text file in blocks (feeds.blocks)
    marks: LineMarks | None = None  # line counts other processes published (ranges)


@dataclass(slots=True)
class FeedTotals:
    """Counters for one path (mutable while reading; `matches` is counted by the pipeline)."""

    lines: int = 0
    bytes: int = 0
    records: int = 0
    matches: int = 0
    problems: int = 0
    skipped_lines: int = 0
    members: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Targets:
    """What an exposure API is asked about: the organisation's domains, portals and partners."""

    domains: tuple[str, ...]
    portal_hosts: tuple[str, ...]
    partner_domains: tuple[str, ...]


FileRecord = LeakedCredential | VictimInfo | Problem


class PathFeed(Protocol):
    name: ClassVar[str]

    @classmethod
    def from_config(cls, section: Mapping[str, Any], env: Mapping[str, str]) -> Self: ...

    def read(self, path: Path, ctx: ReadContext, totals: FeedTotals) -> Iterator[FileRecord]:
        """Every record under `path`, in order; blocking. Bad input is a Problem, never fatal."""
        ...

    def split(self, path: Path, range_size: int) -> list[tuple[int, int]] | None:
        """The byte ranges `path` may be read in separately (`ReadContext.span`), or None when
        it must be read as one unit."""
        ...


class ApiFeed(Protocol):
    name: ClassVar[str]

    @classmethod
    def from_config(cls, section: Mapping[str, Any], env: Mapping[str, str]) -> Self: ...

    def records(self, targets: Targets) -> AsyncIterator[LeakedCredential | Problem]: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainAnswer:
    """What an exposure API says about one e-mail domain, for an ad-hoc lookup (counts only).

    `verified` is False when the API answers only for domains its subscriber proved to own and
    this one is not among them: then nothing else was asked."""

    source: str
    verified: bool
    accounts: int = 0  # distinct addresses under the domain found in breaches
    breaches: tuple[tuple[str, int], ...] = ()  # breach name → addresses, most first
    stealer_log_accounts: int | None = None  # None: the subscription does not cover them


@runtime_checkable
class DomainSearch(Protocol):
    """An API feed that can also answer for any one e-mail domain (HIBP's domain search)."""

    async def domain_search(self, domain: str) -> DomainAnswer: ...
