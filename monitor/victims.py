"""Victim grouping of a stealer log: one machine's matches share its infection date and owner.

A stealer log holds one folder per infected machine. The feed tags each record with the
victim folder it was read from and yields `VictimInfo` facts about that folder (system-info
file, dated folder name). This module holds a folder's stealer matches while the walk is in
it — the system-info file may come after the passwords — and releases them, with the victim's
infection date and machine, as soon as the walk leaves the folder (a record of a folder that is
neither above nor below it arrives) or the path ends; a folder without a system-info file of
its own takes its victim's facts from the nearest folder above it that has one; a portal session cookie is tied to the portal account whose
password the same machine leaked. A folder the walk comes back to (an archive whose members
are not grouped by folder) keeps what was learnt about it while its facts are remembered
(the latest `REMEMBERED` folders): only its matches are released early, never its facts lost.
The earliest plausible date the stealer's own files in a folder carry goes with its matches: an
infection date before it is doubted when containing (monitor.freshness.leak_date).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from monitor.freshness import plausible_file_date
from monitor.keyed import keyed_hash
from monitor.types import Account, CredentialKind, Match, Reason, Victim, VictimInfo


def machine_id_hash(machine_id: str, key: bytes) -> str:
    """The keyed hash of a machine id, case- and space-insensitive."""
    return keyed_hash(key, machine_id.strip().upper().encode("utf-8"))


REMEMBERED = 4096  # folders whose facts are kept after the walk left them


@dataclass(slots=True)
class _Folder:
    info: VictimInfo | None = None  # every fact read so far, merged
    owner: _Owner | None = None  # the portal account its passwords name, once seen
    pending: list[Match] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Owner:
    account: Account
    partner: str | None


class Victims:
    """Groups one path's stealer matches by victim folder and releases each folder's matches,
    completed, when the walk leaves it (`note`, `hold`) or the path ends (`flush`)."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._folders: OrderedDict[str, _Folder] = OrderedDict()  # most recent last
        # The folders the walk is in: the current one and those above or below it that are
        # still held (a browser sub-folder waits for its victim folder's system-info file).
        self._open: list[str] = []

    def note(self, info: VictimInfo) -> Iterator[Match]:
        """A fact about a victim folder: its system-info file, or the date in its name. Yields
        the matches of the folder the walk just left, if it left one."""
        yield from self._enter(info.folder)
        folder = self._folders[info.folder]
        if info.files_dated is not None:  # evidence only when the date is a plausible one
            dated = plausible_file_date(info.files_dated, now=datetime.now(UTC))
            info = replace(info, files_dated=dated)
        old = folder.info
        # a fact read later completes, never erases, what is known
        folder.info = info if old is None else _completed(info, old)

    def hold(self, m: Match) -> Iterator[Match]:
        """A match read from a victim folder (`m.credential.victim_folder` is set). Yields the
        matches of the folder the walk just left, if it left one."""
        key = m.credential.victim_folder or ""
        yield from self._enter(key)
        folder = self._folders[key]
        folder.pending.append(m)
        if folder.owner is None:
            folder.owner = _portal_owner(m)

    def flush(self) -> Iterator[Match]:
        """Release what is still held: the end of the path."""
        for name in self._open:
            yield from self._release(name)
        self._open = []
        self._folders.clear()

    def _enter(self, name: str) -> Iterator[Match]:
        """The walk reads a record of folder `name`: release the open folders it has left."""
        if name in self._open:
            return
        left = [f for f in self._open if not _related(f, name)]
        for f in left:
            yield from self._release(f)
        self._open = [f for f in self._open if f not in left] + [name]
        if name in self._folders:
            self._folders.move_to_end(name)
        else:
            self._folders[name] = _Folder()
        while len(self._folders) > REMEMBERED:
            self._folders.popitem(last=False)

    def _release(self, name: str) -> Iterator[Match]:
        """The folder's held matches with its victim's date and machine; then forget them."""
        folder = self._folders[name]
        pending, folder.pending = folder.pending, []
        if not pending:
            return
        info = self._with_anchor(name, folder.info)
        infected = (info.infected_at or info.folder_date) if info else None
        machine = machine_id_hash(info.machine_id, self._key) if info and info.machine_id else None
        victim = Victim(
            machine_id_hash=machine,
            family=info.family if info else None,
            country=info.country if info else None,
        )
        owner = folder.owner
        dated = info.files_dated if info else None
        for m in pending:
            cred = replace(m.credential, infected_at=infected, files_dated=dated, victim=victim)
            if cred.kind is CredentialKind.COOKIE and m.account is None and owner is not None:
                # The same machine leaked a portal password: the cookie is that user's session.
                m = replace(m, account=owner.account, partner=m.partner or owner.partner)
            yield replace(m, credential=cred)

    def _with_anchor(self, name: str, info: VictimInfo | None) -> VictimInfo | None:
        """A folder's facts completed by the nearest folder above it with a system-info file.

        A stealer writes browser output in folders of its own naming (`Restore/`, `Browser_x/`):
        those belong to the victim folder whose system-info file is above them.
        """
        parent = name
        while info is None or info.infected_at is None or info.family is None:
            cut = parent.rfind("/")
            if cut <= parent.rfind("!"):
                break
            parent = parent[:cut]
            up = self._folders.get(parent)
            if up is None or up.info is None or up.info.infected_at is None:
                continue
            return up.info if info is None else _completed(info, up.info)
        return info


def _completed(info: VictimInfo, other: VictimInfo) -> VictimInfo:
    """`info` with what it lacks taken from `other`; the earlier of their file dates."""
    dates = [d for d in (info.files_dated, other.files_dated) if d is not None]
    return VictimInfo(
        folder=info.folder,
        infected_at=info.infected_at or other.infected_at,
        folder_date=info.folder_date or other.folder_date,
        files_dated=min(dates) if dates else None,
        machine_id=info.machine_id or other.machine_id,
        family=info.family or other.family,
        country=info.country or other.country,
    )


def _related(a: str, b: str) -> bool:
    """Whether one folder is the other or lies inside it (same archive)."""
    return a == b or b.startswith(a + "/") or a.startswith(b + "/")


def _portal_owner(m: Match) -> _Owner | None:
    """The portal account a victim's machine signed in with, when this password says so."""
    c = m.credential
    if c.kind is CredentialKind.PASSWORD and Reason.PORTAL in m.reasons and c.login:
        return _Owner(account=m.account or Account(login=c.login), partner=m.partner)
    return None
