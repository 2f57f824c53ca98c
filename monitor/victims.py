"""Victim grouping of a stealer log: one machine's matches share its infection date and owner.

A stealer log holds one folder per infected machine. The feed tags each record with the
victim folder it was read from and yields `VictimInfo` facts about that folder (system-info
file, dated folder name). This module holds a path's stealer matches per folder until the
path is read — the system-info file may come after the passwords — then gives each match the
victim's infection date and machine, and ties a portal session cookie to the portal account
whose password the same machine leaked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from monitor.keyed import keyed_hash
from monitor.types import Account, CredentialKind, Match, Reason, Victim, VictimInfo


def machine_id_hash(machine_id: str, key: bytes) -> str:
    """The keyed hash of a machine id, case- and space-insensitive."""
    return keyed_hash(key, machine_id.strip().upper().encode("utf-8"))


@dataclass(slots=True)
class _Folder:
    info: VictimInfo | None = None  # every fact read so far, merged
    pending: list[Match] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Owner:
    account: Account
    partner: str | None


class Victims:
    """Collects one path's stealer matches by victim folder; `flush` releases them completed."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._folders: dict[str, _Folder] = {}

    def note(self, info: VictimInfo) -> None:
        """A fact about a victim folder: its system-info file, or the date in its name."""
        folder = self._folders.setdefault(info.folder, _Folder())
        old = folder.info
        if old is not None:  # a fact read later completes, never erases, what is known
            info = VictimInfo(
                folder=info.folder,
                infected_at=info.infected_at or old.infected_at,
                folder_date=info.folder_date or old.folder_date,
                machine_id=info.machine_id or old.machine_id,
                family=info.family or old.family,
                country=info.country or old.country,
            )
        folder.info = info

    def hold(self, m: Match) -> None:
        """A match read from a victim folder (`m.credential.victim_folder` is set)."""
        key = m.credential.victim_folder or ""
        self._folders.setdefault(key, _Folder()).pending.append(m)

    def flush(self) -> Iterator[Match]:
        """Every held match with its victim's date and machine, folder by folder; then forget."""
        for name in sorted(self._folders):
            folder = self._folders[name]
            if not folder.pending:
                continue
            info = self._with_anchor(name, folder.info)
            infected = (info.infected_at or info.folder_date) if info else None
            machine = (
                machine_id_hash(info.machine_id, self._key) if info and info.machine_id else None
            )
            victim = Victim(
                machine_id_hash=machine,
                family=info.family if info else None,
                country=info.country if info else None,
            )
            owner = _portal_owner(folder.pending)
            for m in folder.pending:
                cred = replace(m.credential, infected_at=infected, victim=victim)
                if cred.kind is CredentialKind.COOKIE and m.account is None and owner is not None:
                    # The same machine leaked a portal password: the cookie is that user's session.
                    m = replace(m, account=owner.account, partner=m.partner or owner.partner)
                yield replace(m, credential=cred)
        self._folders.clear()

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
            anchor = up.info
            if info is None:
                return anchor
            return VictimInfo(
                folder=info.folder,
                infected_at=info.infected_at or anchor.infected_at,
                folder_date=info.folder_date or anchor.folder_date,
                machine_id=info.machine_id or anchor.machine_id,
                family=info.family or anchor.family,
                country=info.country or anchor.country,
            )
        return info


def _portal_owner(matches: list[Match]) -> _Owner | None:
    """The portal account a victim's machine signed in with, when its passwords say so."""
    for m in matches:
        c = m.credential
        if c.kind is CredentialKind.PASSWORD and Reason.PORTAL in m.reasons and c.login:
            return _Owner(account=m.account or Account(login=c.login), partner=m.partner)
    return None
