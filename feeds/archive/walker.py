"""The walk: files, folders and archives in, a stream of members and problems out, nesting included."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, BinaryIO, cast

from feeds.archive.compressed import layer_entry, open_layer
from feeds.archive.dates import from_timestamp
from feeds.archive.disk import folder_files
from feeds.archive.entries import Container, Entries, Entry, Replay, ReplayReader
from feeds.archive.errors import ArchiveError, BudgetExceeded, reason_of
from feeds.archive.guards import Budget, guard_reads, spool, too_deep
from feeds.archive.member import HEAD_SIZE, Member
from feeds.archive.names import safe_name
from feeds.archive.passwords import PasswordRing
from feeds.archive.sniff import COMPRESSED, sniff_archive
from feeds.archive.streams import put_back
from feeds.archive.tar import tar_entries
from feeds.stealer_layout import is_litter
from feeds.textio import read_head
from monitor.errors import resource_fault
from monitor.feed import ArchiveLimits
from monitor.types import Problem

log = logging.getLogger(__name__)

_DEFAULT_LIMITS = ArchiveLimits()

_SEEKABLE: dict[str, tuple[str, str]] = {
    "zip": ("feeds.archive.zip", "zip_entries"),
    "7z": ("feeds.archive.sevenzip", "sevenzip_entries"),
    "rar": ("feeds.archive.rar", "rar_entries"),
}
"""Containers read from a file (a nested one is spooled under the workdir first), by the
module that lists them: imported when the first such archive is met, since the 7z and rar
libraries take a noticeable part of a short scan's start-up to import."""


def _lister(kind: str) -> Callable[[Path, Container], Entries]:
    module, name = _SEEKABLE[kind]
    return cast(
        Callable[[Path, Container], Entries], getattr(importlib.import_module(module), name)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Found:
    """A container the walk found: its kind, where and how deep it is, and what to read it from."""

    kind: str
    origin: str
    name: str
    depth: int
    budget: Budget
    path: Path | None = None
    stream: BinaryIO | None = None


def walk(
    paths: Sequence[Path],
    *,
    limits: ArchiveLimits = _DEFAULT_LIMITS,
    passwords: Sequence[str] = (),
    workdir: Path,
) -> Iterator[Member | Problem]:
    """Yield every member of `paths` (files, folders, archives) or a `Problem` for it.

    Folders are walked in sorted order; symlinks leaving a folder are skipped. Archives are
    found by magic bytes and walked recursively; encrypted ones are tried with no password,
    then each of `passwords`. Nothing is written outside `workdir`.
    """
    yield from _Walker(limits=limits, passwords=passwords, workdir=workdir).run(paths)


class _Walker:
    def __init__(self, *, limits: ArchiveLimits, passwords: Sequence[str], workdir: Path) -> None:
        self.limits = limits
        self.passwords = PasswordRing(passwords)
        self.workdir = workdir

    # ---- files and folders

    def run(self, paths: Sequence[Path]) -> Iterator[Member | Problem]:
        for path in paths:
            origin = str(path)
            try:
                if path.is_dir():
                    yield from self._folder(path)
                elif path.is_file():
                    yield from self._file(path, origin=origin, name=safe_name(path.name))
                elif path.exists() or path.is_symlink():
                    yield Problem(origin=origin, reason="not a regular file")
                else:
                    yield Problem(origin=origin, reason="not found")
            except OSError as exc:
                if resource_fault(exc):
                    raise
                yield Problem(origin=origin, reason="unreadable file")

    def _folder(self, root: Path) -> Iterator[Member | Problem]:
        for item in folder_files(root, workdir=self.workdir):
            if isinstance(item, Problem):
                yield item
            else:
                path, name = item
                yield from self._file(path, origin=str(path), name=name)

    def _file(self, path: Path, *, origin: str, name: str) -> Iterator[Member | Problem]:
        try:
            with path.open("rb") as handle:
                head = read_head(handle, HEAD_SIZE)
                stat = os.fstat(handle.fileno())
                size = stat.st_size
        except OSError as exc:
            if resource_fault(exc):
                raise
            yield Problem(origin=origin, reason="unreadable file")
            return
        kind = sniff_archive(head)
        if kind is None:
            limits = self.limits

            def opener() -> BinaryIO:
                try:
                    handle = path.open("rb")
                except OSError as exc:
                    raise ArchiveError("unreadable file") from exc
                return guard_reads(handle, limits)

            yield Member(
                origin=origin,
                name=name,
                size=size,
                head=head,
                _opener=opener,
                modified=from_timestamp(stat.st_mtime),
            )
            return
        budget = Budget(self.limits, physical=size)
        yield from self._archive(
            _Found(kind=kind, origin=origin, name=name, depth=0, budget=budget, path=path)
        )

    # ---- archives

    def _archive(self, found: _Found) -> Iterator[Member | Problem]:
        """Walk one container, read from its path or from its stream."""
        origin = found.origin
        try:
            if found.kind in COMPRESSED:
                yield from self._layer(found)
                return
            box = Container(origin=origin, budget=found.budget, passwords=self.passwords)
            with contextlib.ExitStack() as stack:
                if found.kind == "tar":
                    entries = tar_entries(_source(stack, found), box)
                else:
                    path = found.path
                    if path is None:
                        assert found.stream is not None
                        path = stack.enter_context(spool(found.stream, self.workdir))
                    entries = _lister(found.kind)(path, box)
                with contextlib.closing(entries):
                    for item in entries:
                        if isinstance(item, Problem):
                            yield item
                        else:
                            yield from self._entry(item, origin, found.depth, found.budget)
        except ArchiveError as exc:
            if resource_fault(exc):
                raise
            yield Problem(origin=origin, reason=exc.reason)
        except Exception as exc:  # a library choking on hostile input must not stop the walk
            if resource_fault(exc):
                raise
            log.warning("archive unreadable", extra={"origin": origin, "error": type(exc).__name__})
            yield Problem(origin=origin, reason=f"unreadable archive ({type(exc).__name__})")

    def _entry(
        self, entry: Entry, parent: str, depth: int, budget: Budget
    ) -> Iterator[Member | Problem]:
        origin = f"{parent}!{entry.name}"
        if is_litter(entry.name):
            return
        skip = budget.admit(entry.size, entry.packed)  # BudgetExceeded stops the whole archive
        if skip is not None:
            yield Problem(origin=origin, reason=skip)
            return
        try:
            stream = entry.open()
        except BudgetExceeded:
            raise
        except Exception as exc:
            if resource_fault(exc):
                raise
            yield Problem(origin=origin, reason=reason_of(exc))
            return
        replay = Replay(stream) if entry.single_pass else None
        with contextlib.closing(stream):
            try:
                # no read-ahead: a member cut short still shows its first bytes
                source = cast(IO[bytes], ReplayReader(replay)) if replay is not None else stream
                head = read_head(source, HEAD_SIZE)
            except BudgetExceeded:
                raise
            except Exception as exc:
                if resource_fault(exc):
                    raise
                yield Problem(origin=origin, reason=reason_of(exc))
                return
            kind = sniff_archive(head)
            if kind is not None:
                deep = too_deep(depth + 1, self.limits)
                if deep is not None:
                    yield Problem(origin=origin, reason=deep)
                    return
                nested = replay() if replay is not None else put_back(head, stream)
                yield from self._archive(
                    _Found(kind=kind, origin=origin, name=entry.name, depth=depth + 1,
                           budget=budget, stream=nested)
                )  # fmt: skip
                return
            opener: Callable[[], BinaryIO] = replay if replay is not None else entry.open
            yield Member(
                origin=origin,
                name=entry.name,
                size=entry.size,
                head=head,
                _opener=opener,
                modified=entry.modified,
            )

    def _layer(self, found: _Found) -> Iterator[Member | Problem]:
        """A compressed stream: a tar inside is walked in place, anything else is one member."""
        with contextlib.ExitStack() as stack:
            inflated = open_layer(found.kind, _source(stack, found), self.limits)
            stack.callback(inflated.close)
            try:
                head = read_head(inflated, HEAD_SIZE)
            except ArchiveError as exc:
                yield Problem(origin=found.origin, reason=exc.reason)
                return
            inner = put_back(head, inflated)
            if sniff_archive(head) == "tar":
                yield from self._archive(replace(found, kind="tar", path=None, stream=inner))
                return
            box = Container(origin=found.origin, budget=found.budget, passwords=self.passwords)
            entry = layer_entry(inner, kind=found.kind, name=found.name, box=box)
            yield from self._entry(entry, found.origin, found.depth, found.budget)


def _source(stack: contextlib.ExitStack, found: _Found) -> IO[bytes]:
    """The container's stream when it is nested, else its path opened for the life of `stack`."""
    if found.stream is not None:
        return found.stream
    assert found.path is not None
    return stack.enter_context(found.path.open("rb"))
