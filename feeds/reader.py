"""Read one path given on the command line (file, folder or archive) into Matches and Problems.

Blocking code: run it in a worker thread. Stealer-log members are parsed per victim folder,
text bases go through the byte screen, breach corpora through their own parsers.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO, TextIO

from feeds import breach, ulp
from feeds.archive import Limits, Member, walk
from feeds.cookies import parse_cookies
from feeds.stealer_layout import FileRole, classify, victim_root
from feeds.stealer_passwords import parse_passwords
from feeds.stealer_sysinfo import SystemInfo, date_from_folder, machine_id_hash, parse_sysinfo
from feeds.text_scan import ScanCounters, candidate_lines
from feeds.textio import LineCounter, iter_text_lines, utf8_stream
from monitor.errors import FeedError
from monitor.matcher import match
from monitor.normalize import canonical_login, split_url
from monitor.screen import ByteScreen
from monitor.types import (
    Account,
    CredentialKind,
    LeakedCredential,
    Match,
    Problem,
    Reason,
    Secret,
    Victim,
)
from monitor.watchlist import Watchlist

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


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadSettings:
    watch: Watchlist
    key: bytes
    limits: Limits
    passwords: tuple[str, ...]
    workdir: Path
    max_line: int = 1 << 20
    screen: ByteScreen | None = None  # None: every line is parsed (huge account lists)
    progress: Callable[[int], None] | None = None  # told of text bytes read (progress bars)


@dataclass(slots=True)
class ReadTotals:
    """Counters for one path (mutable while reading)."""

    lines: int = 0
    bytes: int = 0
    records: int = 0
    matches: int = 0
    problems: int = 0
    skipped_lines: int = 0
    members: int = 0


@dataclass(slots=True)
class _Victim:
    info: SystemInfo | None = None
    pending: list[Match] = field(default_factory=list)


def settings_screen(watch: Watchlist) -> ByteScreen | None:
    needles, full_pass = watch.screen_needles()
    if full_pass or not needles:
        return None
    return ByteScreen(needles)


class PathReader:
    """Reads one top-level path; `run` yields Matches and Problems, `totals` counts the rest."""

    def __init__(self, settings: ReadSettings) -> None:
        self.s = settings
        self.totals = ReadTotals()
        self._victims: dict[tuple[str, str], _Victim] = {}

    def run(self, path: Path) -> Iterator[Match | Problem]:
        top = path
        for item in walk(
            [path], limits=self.s.limits, passwords=self.s.passwords, workdir=self.s.workdir
        ):
            if isinstance(item, Problem):
                self.totals.problems += 1
                yield item
                continue
            self.totals.members += 1
            try:
                yield from self._member(item, top)
            except FeedError as exc:
                self.totals.problems += 1
                yield Problem(origin=item.origin, reason=str(exc))
            except OSError as exc:
                self.totals.problems += 1
                yield Problem(origin=item.origin, reason=f"read error: {exc.strerror or exc}")
        yield from self._flush_victims()

    # -- dispatch -------------------------------------------------------------------------

    def _member(self, member: Member, top: Path) -> Iterator[Match | Problem]:
        container, name = _container_and_name(member, top)
        role = classify(name)
        if role is FileRole.SYSINFO:
            self._sysinfo(member, container, name)
        elif role is FileRole.PASSWORDS:
            self._stash(container, name, self._passwords(member))
        elif role is FileRole.COOKIES:
            self._stash(container, name, self._cookies(member))
        elif _is_noise(name):
            return
        else:
            yield from self._text_base(member)

    def _stash(self, container: str, name: str, matches: Iterable[Match]) -> None:
        """Hold a victim's matches until its folder is done (the date may come later)."""
        victim = self._victims.setdefault((container, victim_root(name)), _Victim())
        victim.pending.extend(matches)

    def _flush_victims(self) -> Iterator[Match]:
        for (_, root), victim in sorted(self._victims.items()):
            info = victim.info
            folder_date = date_from_folder(root.rsplit("/", 1)[-1]) if root else None
            infected = (info.infected_at if info else None) or folder_date
            machine = (
                machine_id_hash(info.machine_id, self.s.key) if info and info.machine_id else None
            )
            v = Victim(
                machine_id_hash=machine,
                family=info.family if info else None,
                country=info.country if info else None,
            )
            owner = _portal_owner(victim.pending)
            for m in victim.pending:
                self.totals.matches += 1
                cred = replace(m.credential, infected_at=infected, victim=v)
                if cred.kind is CredentialKind.COOKIE and m.account is None and owner is not None:
                    # The same machine leaked a portal password: the cookie is that user's session.
                    m = replace(m, account=owner.account, partner=m.partner or owner.partner)
                yield replace(m, credential=cred)
        self._victims.clear()

    # -- stealer logs ---------------------------------------------------------------------

    def _lines(self, member: Member) -> Iterator[tuple[int, str]]:
        stats = LineCounter()
        with member.open() as stream:
            yield from iter_text_lines(stream, max_line=self.s.max_line, stats=stats)
        self.totals.lines += stats.lines
        self.totals.skipped_lines += stats.binary + stats.too_long

    def _sysinfo(self, member: Member, container: str, name: str) -> None:
        info = parse_sysinfo(name, self._lines(member))
        self._victims.setdefault((container, victim_root(name)), _Victim()).info = info

    def _passwords(self, member: Member) -> list[Match]:
        found = []
        for entry in parse_passwords(self._lines(member)):
            self.totals.records += 1
            host, path = split_url(entry.url)
            cred = LeakedCredential(
                kind=CredentialKind.PASSWORD,
                url=entry.url,
                host=host,
                path=path,
                login=canonical_login(entry.login),
                secret=entry.secret,
                origin=member.origin,
                line=entry.line,
                feed="stealer",
            )
            m = match(cred, self.s.watch)
            if m is not None:
                found.append(m)
        return found

    def _cookies(self, member: Member) -> list[Match]:
        found = []
        for c in parse_cookies(self._lines(member)):
            self.totals.records += 1
            cred = LeakedCredential(
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
            )
            m = match(cred, self.s.watch)
            if m is not None:
                found.append(m)
        return found

    # -- text bases (ULP, combos, breach corpora) ----------------------------------------

    def _text_base(self, member: Member) -> Iterator[Match | Problem]:
        kind = _sniff(member.head, member.name)
        if kind == "binary":
            self.totals.problems += 1
            yield Problem(origin=member.origin, reason="binary file skipped")
            return
        if kind in ("csv", "jsonl", "email_hash"):
            yield from self._breach(member, kind)
            return
        yield from self._ulp(member)

    def _ulp(self, member: Member) -> Iterator[Match]:
        counters = ScanCounters()
        watch = self.s.watch
        with member.open() as raw:
            stream = utf8_stream(raw)
            for line_no, line in candidate_lines(
                stream, self.s.screen, counters, max_line=self.s.max_line, on_bytes=self.s.progress
            ):
                cred = _ulp_credential(line, line_no, member.origin)
                if cred is None:
                    counters.unparsed += 1
                    continue
                self.totals.records += 1
                m = match(cred, watch)
                if m is not None:
                    self.totals.matches += 1
                    yield m
        self.totals.lines += counters.lines
        self.totals.bytes += counters.bytes
        self.totals.skipped_lines += counters.too_long + counters.binary

    def _breach(self, member: Member, kind: str) -> Iterator[Match | Problem]:
        watch = self.s.watch
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
                    m = match(rec, watch)
                    if m is not None:
                        self.totals.matches += 1
                        yield m
                else:
                    self.totals.skipped_lines += 1


@dataclass(frozen=True, slots=True, kw_only=True)
class _Owner:
    account: Account
    partner: str | None


def _portal_owner(matches: list[Match]) -> _Owner | None:
    """The portal account a victim's machine signed in with, when its passwords say so."""
    for m in matches:
        c = m.credential
        if c.kind is CredentialKind.PASSWORD and Reason.PORTAL in m.reasons and c.login:
            return _Owner(account=m.account or Account(login=c.login), partner=m.partner)
    return None


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


__all__ = ["PathReader", "ReadSettings", "ReadTotals", "settings_screen"]
