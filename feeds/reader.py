"""The files feed: one path (file, folder or archive) read into credential records and Problems.

Blocking code: the pipeline runs it in a worker thread. Stealer-log members are tagged with
their victim folder, text bases go through the screen the core hands in, breach corpora
through their own parsers. Matching and victim grouping happen in the core.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Self, TextIO

from feeds import breach, ulp
from feeds.archive import Member, walk
from feeds.cookies import parse_cookies
from feeds.stealer_layout import FileRole, classify, victim_root
from feeds.stealer_passwords import parse_passwords
from feeds.stealer_sysinfo import date_from_folder, parse_sysinfo
from feeds.text_scan import ScanCounters, candidate_lines
from feeds.textio import LineCounter, iter_text_lines, utf8_stream
from monitor.errors import FeedError
from monitor.feed import FeedTotals, FileRecord, ReadContext
from monitor.normalize import canonical_login, split_url
from monitor.settings import Section, load_section
from monitor.types import CredentialKind, LeakedCredential, Problem, Secret, VictimInfo

log = logging.getLogger(__name__)

# Stealer output that holds no credentials: history, autofill, wallets, grabbed documents...
_NOISE_FOLDERS = frozenset(
    {
        "autofill", "autofills", "cc", "creditcards", "credit cards", "desktop", "documents",
        "filegrabber", "grabber", "grabfiles", "history", "screenshots", "telegram", "usb",
        "wallets", "discord", "steam", "messengers", "__macosx", "fingerprint", "masterkeys",
    }
)  # fmt: skip
_NOISE_FILES = frozenset(
    {
        "brute.txt", "installedsoftware.txt", "installed software.txt", "processlist.txt",
        "process list.txt", "domaindetects.txt", "ip.txt", ".ds_store", "thumbs.db",
        "desktop.ini",
    }
)  # fmt: skip
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


class _NoOptions(Section):
    """The files feed is tuned by the core's [scan] table; its own section takes no keys."""


class _PathRead:
    """One top-level path being read."""

    def __init__(self, top: Path, ctx: ReadContext, totals: FeedTotals) -> None:
        self.top = top
        self.ctx = ctx
        self.totals = totals
        self._folders: set[str] = set()

    def run(self) -> Iterator[FileRecord]:
        c = self.ctx
        for item in walk([self.top], limits=c.limits, passwords=c.passwords, workdir=c.workdir):
            if isinstance(item, Problem):
                self.totals.problems += 1
                yield item
                continue
            self.totals.members += 1
            try:
                yield from self._member(item)
            except FeedError as exc:
                self.totals.problems += 1
                yield Problem(origin=item.origin, reason=str(exc))
            except OSError as exc:
                self.totals.problems += 1
                yield Problem(origin=item.origin, reason=f"read error: {exc.strerror or exc}")

    # -- dispatch -------------------------------------------------------------------------

    def _member(self, member: Member) -> Iterator[FileRecord]:
        container, name = _container_and_name(member, self.top)
        role = classify(name)
        if role is FileRole.SYSINFO:
            yield from self._sysinfo(member, container, name)
        elif role is FileRole.PASSWORDS:
            yield from self._victim_folder(container, name)
            yield from self._passwords(member, _folder_key(container, name))
        elif role is FileRole.COOKIES:
            yield from self._victim_folder(container, name)
            yield from self._cookies(member, _folder_key(container, name))
        elif _is_noise(name):
            return
        else:
            yield from self._text_base(member)

    def _victim_folder(self, container: str, name: str) -> Iterator[VictimInfo]:
        """The first time a victim folder is seen: the infection date its name may carry."""
        key = _folder_key(container, name)
        if key in self._folders:
            return
        self._folders.add(key)
        root = victim_root(name)
        dated = date_from_folder(root.rsplit("/", 1)[-1]) if root else None
        if dated is not None:
            yield VictimInfo(folder=key, folder_date=dated)

    # -- stealer logs ---------------------------------------------------------------------

    def _lines(self, member: Member) -> Iterator[tuple[int, str]]:
        stats = LineCounter()
        with member.open() as stream:
            yield from iter_text_lines(stream, max_line=self.ctx.max_line, stats=stats)
        self.totals.lines += stats.lines
        self.totals.skipped_lines += stats.binary + stats.too_long

    def _sysinfo(self, member: Member, container: str, name: str) -> Iterator[VictimInfo]:
        info = parse_sysinfo(name, self._lines(member))
        yield from self._victim_folder(container, name)
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
        if kind in ("csv", "jsonl", "email_hash"):
            yield from self._breach(member, kind)
            return
        yield from self._ulp(member)

    def _ulp(self, member: Member) -> Iterator[LeakedCredential]:
        counters = ScanCounters()
        c = self.ctx
        with member.open() as raw:
            stream = utf8_stream(raw)
            for line_no, line in candidate_lines(
                stream, c.screen, counters, max_line=c.max_line, on_bytes=c.progress
            ):
                cred = _ulp_credential(line, line_no, member.origin)
                if cred is None:
                    counters.unparsed += 1
                    continue
                self.totals.records += 1
                yield cred
        self.totals.lines += counters.lines
        self.totals.bytes += counters.bytes
        self.totals.skipped_lines += counters.too_long + counters.binary

    def _breach(self, member: Member, kind: str) -> Iterator[LeakedCredential]:
        with member.open() as raw:
            text = _text_stream(utf8_stream(raw))
            records: Iterable[object]
            if kind == "csv":
                records = breach.parse_csv(text, origin=member.origin)
            elif kind == "jsonl":
                records = breach.parse_jsonl(text, origin=member.origin)
            else:
                records = _email_hash_records(text, member.origin)
            for rec in records:
                if isinstance(rec, LeakedCredential):
                    self.totals.records += 1
                    yield rec
                else:
                    self.totals.skipped_lines += 1


def _folder_key(container: str, name: str) -> str:
    """The victim folder a stealer member sits in, e.g. `dump.zip!PC1`."""
    root = victim_root(name)
    return f"{container}!{root}" if root else container


def _ulp_credential(line: bytes, line_no: int, origin: str) -> LeakedCredential | None:
    if b"\x00" in line:
        return None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        text = line.decode("cp1251", errors="replace")
    rec = ulp.parse_ulp_line(text)
    if rec is None:
        return None
    host, path = split_url(rec.url) if rec.url else ("", "")
    return LeakedCredential(
        kind=CredentialKind.PASSWORD,
        url=rec.url,
        host=host,
        path=path,
        login=canonical_login(rec.login),
        secret=Secret(rec.password),
        origin=origin,
        line=line_no,
        feed="ulp",
    )


def _email_hash_records(text: Iterable[str], origin: str) -> Iterator[LeakedCredential | None]:
    for n, line in enumerate(text, start=1):
        yield breach.parse_email_hash_line(line.rstrip("\r\n"), origin=origin, line_no=n)


def _text_stream(stream: BinaryIO) -> TextIO:
    return io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")


def _sniff(head: bytes, name: str) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "text"  # UTF-16 with BOM: NUL bytes are expected
    if _mostly_binary(head[:4096]):
        return "binary"  # a stray binary line is skipped by the line readers, not the file
    lower = name.lower()
    if any(lower.endswith(ext) for ext in _BINARY_EXT):
        return "binary"
    text = head.decode("utf-8", errors="replace")
    return breach.sniff_corpus(text, name)


_CONTROL = bytes(range(9)) + bytes(range(14, 32))


def _mostly_binary(head: bytes) -> bool:
    if not head:
        return False
    control = len(head) - len(head.translate(None, _CONTROL))
    return control / len(head) > 0.3


def _is_noise(name: str) -> bool:
    parts = [p.lower() for p in name.split("/") if p]
    if not parts:
        return True
    return parts[-1] in _NOISE_FILES or any(p in _NOISE_FOLDERS for p in parts[:-1])


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
