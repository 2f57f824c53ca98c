"""The files feed: one path (file, folder or archive) read into credential records and Problems.

Blocking code: the pipeline runs it in a worker thread. Stealer-log members are tagged with
their victim folder, text bases go through the screen the core hands in, breach corpora
through their own parsers. Matching and victim grouping happen in the core.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Mapping
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Literal, Self, TextIO

from feeds import blocks, breach, ranges, ulp
from feeds.archive import Member, walk
from feeds.archive.sniff import sniff_archive
from feeds.content import Content, sniff_content, unknown_format
from feeds.cookies import parse_cookies
from feeds.hashes import crypt_algorithm
from feeds.stealer_layout import FileRole, classify, is_artifact, is_noise, victim_root
from feeds.stealer_passwords import line_fields, parse_passwords
from feeds.stealer_sysinfo import date_from_folder, parse_sysinfo
from feeds.text_scan import ScanCounters, candidate_lines
from feeds.textio import LineCounter, decode_line, iter_text_lines, mostly_binary, utf8_stream
from feeds.watchdog import Watchdog
from monitor.errors import FeedError, resource_fault
from monitor.feed import FeedTotals, FileRecord, ReadContext
from monitor.normalize import canonical_login, split_url
from monitor.settings import Section, load_section
from monitor.types import (
    UNKNOWN_FORMAT,
    CredentialKind,
    LeakedCredential,
    Problem,
    Secret,
    VictimInfo,
)

log = logging.getLogger(__name__)

_HOLD = 16 << 20  # bytes of a range's candidate lines held until the lines before it are known

_BINARY_EXT = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".ldb", ".log.old", ".exe", ".dll", ".db", ".sqlite"}
)


class FileFeed:
    """Files, folders and archives given by path: stealer logs, ULP text bases, breach corpora.

    `read` yields LeakedCredentials (stealer-log ones tagged with their victim folder),
    VictimInfo facts and Problems; `totals` counts what was read. It never matches.
    """

    name: ClassVar[str] = "files"

    @classmethod
    def from_config(cls, section: Mapping[str, Any], env: Mapping[str, str]) -> Self:
        load_section(_NoOptions, section, section="feeds.files")
        return cls()

    def read(self, path: Path, ctx: ReadContext, totals: FeedTotals) -> Iterator[FileRecord]:
        return _PathRead(path, ctx, totals).run()

    def split(self, path: Path, range_size: int) -> list[tuple[int, int]] | None:
        """Byte ranges `path` can be read in (see feeds.ranges), or None when it is one unit:
        a folder, an archive or compressed file, a stealer-log member, UTF-16, a breach corpus,
        or a text base no larger than one range."""
        if range_size <= 0 or not path.is_file():
            return None
        size = path.stat().st_size
        if size <= range_size:
            return None
        with path.open("rb") as f:
            head = f.read(64 << 10)
        name = path.name
        if sniff_archive(head) is not None or classify(name) is not FileRole.IGNORE:
            return None
        if is_noise(name) or head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return None
        if _sniff(head, name) != "text":
            return None
        return ranges.spans(size, range_size)


class _NoOptions(Section):
    """The files feed is tuned by the core's [scan] table; its own section takes no keys."""


class _PathRead:
    """One top-level path being read."""

    def __init__(self, top: Path, ctx: ReadContext, totals: FeedTotals) -> None:
        self.top = top
        self.ctx = ctx
        self.totals = totals
        self._folders: set[str] = set()
        self._dog: Watchdog | None = None

    def run(self) -> Iterator[FileRecord]:
        c = self.ctx
        for item in walk([self.top], limits=c.limits, passwords=c.passwords, workdir=c.workdir):
            if isinstance(item, Problem):
                self.totals.problems += 1
                yield item
                continue
            self.totals.members += 1
            dog = Watchdog(c.member_cpu_seconds)
            self._dog = dog
            member = replace(item, _opener=partial(_watched, item, dog))
            try:
                for record in self._member(member):
                    dog.tick()
                    yield record
            except Exception as exc:
                if resource_fault(exc):
                    raise  # the machine, not the member: the path is read again later
                self.totals.problems += 1
                yield _problem(item.origin, exc)

    # -- dispatch -------------------------------------------------------------------------

    def _member(self, member: Member) -> Iterator[FileRecord]:
        """The content decides what a member is; its name is a hint only."""
        container, name = _container_and_name(member, self.top)
        role = classify(name)
        if role is FileRole.SYSINFO:
            yield from self._sysinfo(member, container, name)
            return
        content = sniff_content(member.head, name)
        if content is Content.COOKIES or (role is FileRole.COOKIES and content is Content.TEXT):
            yield from self._victim_folder(container, name, member)
            yield from self._cookies(member, _folder_key(container, name))
        elif content is Content.PASSWORD_BLOCKS or (
            role is FileRole.PASSWORDS and content is Content.TEXT
        ):
            yield from self._victim_folder(container, name, member)
            yield from self._passwords(member, _folder_key(container, name))
        elif content is Content.SCREENSHOT or (content is Content.BINARY and not is_noise(name)):
            self.totals.problems += 1
            yield Problem(origin=member.origin, reason=f"{content.value} skipped")
        elif is_noise(name):
            return
        else:
            yield from self._text_base(member)

    def _victim_folder(self, container: str, name: str, member: Member) -> Iterator[VictimInfo]:
        """What one of the stealer's files tells of its victim folder: the infection date the
        folder's name may carry (the first time the folder is seen) and the file's own date."""
        key = _folder_key(container, name)
        dated = None
        if key not in self._folders:
            self._folders.add(key)
            root = victim_root(name)
            dated = date_from_folder(root.rsplit("/", 1)[-1]) if root else None
        if dated is not None or member.modified is not None:
            yield VictimInfo(folder=key, folder_date=dated, files_dated=member.modified)

    # -- stealer logs ---------------------------------------------------------------------

    def _lines(self, member: Member) -> Iterator[tuple[int, str]]:
        stats = LineCounter()
        with member.open() as stream:
            yield from iter_text_lines(stream, max_line=self.ctx.max_line, stats=stats)
        self.totals.lines += stats.lines
        self.totals.skipped_lines += stats.binary + stats.too_long

    def _sysinfo(self, member: Member, container: str, name: str) -> Iterator[VictimInfo]:
        info = parse_sysinfo(name, self._lines(member))
        yield from self._victim_folder(container, name, member)
        yield VictimInfo(
            folder=_folder_key(container, name),
            infected_at=info.infected_at,
            machine_id=info.machine_id,
            family=info.family,
            country=info.country,
        )

    def _passwords(self, member: Member, folder: str) -> Iterator[LeakedCredential]:
        for entry in parse_passwords(self._lines(member)):
            self.totals.records += 1
            host, path = split_url(entry.url)
            yield LeakedCredential(
                kind=CredentialKind.PASSWORD,
                url=entry.url,
                host=host,
                path=path,
                login=canonical_login(entry.login),
                secret=entry.secret,
                origin=member.origin,
                line=entry.line,
                feed="stealer",
                victim_folder=folder,
            )

    def _cookies(self, member: Member, folder: str) -> Iterator[LeakedCredential]:
        for c in parse_cookies(self._lines(member)):
            self.totals.records += 1
            yield LeakedCredential(
                kind=CredentialKind.COOKIE,
                url=f"https://{c.domain}{c.path}",
                host=c.domain,
                path=c.path,
                login="",
                secret=c.value,
                origin=member.origin,
                line=c.line,
                feed="stealer",
                cookie_name=c.name,
                cookie_expires=c.expires,
                victim_folder=folder,
            )

    # -- text bases (ULP, combos, breach corpora) ----------------------------------------

    def _text_base(self, member: Member) -> Iterator[FileRecord]:
        kind = _sniff(member.head, member.name)
        if kind == "binary":
            self.totals.problems += 1
            yield Problem(origin=member.origin, reason="binary file skipped")
            return
        if kind != "text":
            folder = self._stealer_json(member, kind)
            if folder is not None:
                yield from self._victim_folder(*_container_and_name(member, self.top), member)
            for rec in self._breach(member, kind):
                yield rec if folder is None else replace(rec, feed="stealer", victim_folder=folder)
            return
        head_unit = self.ctx.span is None or self.ctx.span[0] == 0  # the unit holding the head
        expected = is_artifact(member.name)  # stealer output of no known shape, read all the same
        if head_unit and not expected and unknown_format(member.head, _parses_as_text_base):
            self.totals.problems += 1
            yield Problem(origin=member.origin, reason=UNKNOWN_FORMAT)
        yield from self._ulp(member)

    def _stealer_json(self, member: Member, kind: breach.CorpusFormat) -> str | None:
        """The victim folder of a stealer's `Passwords.json`, else None (a breach corpus)."""
        base = member.name.replace("\\", "/").rsplit("/", 1)[-1].lower()
        if kind != "json" or "password" not in base or "!" not in member.origin:
            return None
        return _folder_key(*_container_and_name(member, self.top))

    def _ulp(self, member: Member) -> Iterator[LeakedCredential]:
        counters = ScanCounters()
        c = self.ctx
        first, end, lines = self._base_lines(member, counters)
        if c.span is not None:
            lines = self._numbered_in_file(first, end, lines, counters)
        for line_no, line in lines:
            cred = _ulp_credential(line, line_no, member.origin)
            if cred is None:
                counters.unparsed += 1
                continue
            self.totals.records += 1
            yield cred
        self.totals.lines += counters.lines
        self.totals.bytes += counters.bytes
        self.totals.skipped_lines += counters.too_long + counters.binary

    def _numbered_in_file(
        self,
        first: int,
        end: int,
        lines: Iterator[tuple[int, bytes]],
        counters: ScanCounters,
    ) -> Iterator[tuple[int, bytes]]:
        """A range's lines (numbered from 1 at `first`) numbered as in the whole file. The
        lines before the range are counted once it is read (its candidate lines held
        meanwhile, up to _HOLD bytes): by then the process reading the range before has often
        published the count at `first`, and nothing is left to count. The count at `end` is
        published as soon as it is known, for the process reading the next range."""
        c = self.ctx
        held: list[tuple[int, bytes]] = []
        size = 0
        for item in lines:
            held.append(item)
            size += len(item[1]) + 64
            if size > _HOLD:
                break
        else:
            lines = iter(())  # the whole range is read
        whole = size <= _HOLD
        last = end >= self.top.stat().st_size
        before = ranges.count_before(self.top, first, c.span_key, threads=c.threads, marks=c.marks)
        if whole and not last:
            ranges.remember(c.span_key, end, before + counters.lines, c.marks)
        for number, line in held:
            yield before + number, line
        held.clear()
        for number, line in lines:
            yield before + number, line
        if not whole and not last:
            ranges.remember(c.span_key, end, before + counters.lines, c.marks)

    def _base_lines(
        self, member: Member, counters: ScanCounters
    ) -> tuple[int, int, Iterator[tuple[int, bytes]]]:
        """(first byte, end byte of a range, the candidate lines numbered from 1 there). A plain
        file on disk (or a range of one) is read in place on every core (feeds.blocks); any
        other member, or a read without a screen, is streamed."""
        c = self.ctx
        first, end = 0, -1
        if c.span is not None:
            first, end = ranges.bounds(self.top, *c.span)
        in_place = c.span is not None or (
            member.origin == str(self.top)
            and self.top.is_file()
            and not member.head.startswith((b"\xff\xfe", b"\xfe\xff"))
        )
        if c.screen is not None and in_place:
            lines = blocks.block_lines(
                self.top,
                c.screen,
                counters,
                lo=first,
                hi=None if end < 0 else end,
                threads=c.threads,
                max_line=c.max_line,
                on_bytes=self._read_bytes,
            )
            return first, end, lines
        if c.span is None:
            stream = utf8_stream(member.open())
        else:
            stream = ranges.open_span(self.top, first, end)
            stream = utf8_stream(stream) if first == 0 else stream
        return first, end, _streamed(stream, c, counters)

    def _read_bytes(self, size: int) -> None:
        """Count `size` bytes read in place against the watchdog and the progress bar."""
        if self._dog is not None:
            self._dog.count(size)
        if self.ctx.progress is not None:
            self.ctx.progress(size)

    def _breach(self, member: Member, kind: breach.CorpusFormat) -> Iterator[LeakedCredential]:
        with member.open() as raw:
            text = _text_stream(utf8_stream(raw))
            for rec in breach.parse_corpus(text, origin=member.origin, fmt=kind):
                if isinstance(rec, LeakedCredential):
                    self.totals.records += 1
                    yield rec
                else:
                    self.totals.skipped_lines += 1


def _streamed(
    stream: BinaryIO, c: ReadContext, counters: ScanCounters
) -> Iterator[tuple[int, bytes]]:
    with stream:
        yield from candidate_lines(
            stream, c.screen, counters, max_line=c.max_line, on_bytes=c.progress
        )


def _watched(member: Member, dog: Watchdog) -> BinaryIO:
    """`member`'s stream under its watchdog."""
    return dog.wrap(member.open())


def _problem(origin: str, exc: Exception) -> Problem:
    """What a member that could not be read costs: one Problem with a constant reason."""
    if isinstance(exc, FeedError):
        return Problem(origin=origin, reason=str(exc))
    if isinstance(exc, OSError):
        return Problem(origin=origin, reason=f"read error: {exc.strerror or exc}")
    # a parser choking on one member never ends the path
    log.warning("member unparseable", extra={"origin": origin, "error": type(exc).__name__})
    return Problem(origin=origin, reason=f"unparseable member ({type(exc).__name__})")


def _folder_key(container: str, name: str) -> str:
    """The victim folder a stealer member sits in, e.g. `dump.zip!PC1`."""
    root = victim_root(name)
    return f"{container}!{root}" if root else container


def _ulp_credential(line: bytes, line_no: int, origin: str) -> LeakedCredential | None:
    if b"\x00" in line:
        return None
    text, _ = decode_line(line)
    rec = ulp.parse_ulp_line(text) or _labelled_record(text)
    if rec is None:
        return None
    host, path = split_url(rec.url) if rec.url else ("", "")
    algorithm = crypt_algorithm(rec.password) if rec.password[:1] in ("$", "p") else None
    return LeakedCredential(
        kind=CredentialKind.PASSWORD if algorithm is None else CredentialKind.HASH,
        url=rec.url,
        host=host,
        path=path,
        login=canonical_login(rec.login),
        secret=Secret(rec.password),
        origin=origin,
        line=line_no,
        feed="ulp",
        hash_algorithm=algorithm,
    )


def _parses_as_text_base(line: str) -> bool:
    """Whether one head line is a ULP, combo or one-line labelled record (the format sniff)."""
    return _ulp_credential(line.encode("utf-8", errors="replace"), 0, "") is not None


def _labelled_record(text: str) -> ulp.UlpRecord | None:
    """A one-line labelled record in a text base: `URL: a USER: b PASS: c` (off the hot path)."""
    fields = dict(line_fields(text))
    url, password = fields.get("url", ""), fields.get("password", "")
    if not url or not password:
        return None
    return ulp.UlpRecord(url=url, login=fields.get("login", ""), password=password)


def _text_stream(stream: BinaryIO) -> TextIO:
    return io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")


def _sniff(head: bytes, name: str) -> breach.CorpusFormat | Literal["binary", "text"]:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "text"  # UTF-16 with BOM: NUL bytes are expected
    if mostly_binary(head[:4096]):
        return "binary"  # a stray binary line is skipped by the line readers, not the file
    lower = name.lower()
    if any(lower.endswith(ext) for ext in _BINARY_EXT):
        return "binary"
    fmt = breach.sniff_corpus(head.decode("utf-8", errors="replace"), name)
    return "text" if fmt == "unknown" else fmt


def _container_and_name(member: Member, top: Path) -> tuple[str, str]:
    """The archive (or folder) a member sits in, and its path inside it."""
    if "!" in member.origin and member.origin.endswith(member.name):
        return member.origin[: -len(member.name)].rstrip("!"), member.name
    # A file on disk: its path relative to the folder given on the command line.
    try:
        rel = Path(member.origin).relative_to(top).as_posix() if top.is_dir() else member.name
    except ValueError:
        rel = member.name
    return str(top), rel


__all__ = ["FileFeed"]
