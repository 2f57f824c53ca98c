"""A large account list, compiled once into a persisted identity screen and reused while fresh.

The screen file sits next to the accounts CSV (`accounts.csv.idscreen`). Its meta records what
it was built from: a digest over the format version, the fingerprint key's id, the partners'
e-mail domains, the inline logins and the CSV's SHA-256 (with the CSV's size and modification
time, so an unchanged CSV is not read again). A scan opens the file, checks that digest and
uses it; when the accounts, the partners or the key changed, or the file is corrupt, truncated
or of another format, it says why in the log and builds the screen again. A directory that
cannot be written keeps the screen in memory (built at each start).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from monitor.identity_accounts import configured_accounts
from monitor.identity_file import FORMAT, ScreenFileError, load, save, scanner_db
from monitor.identity_index import IdentityIndex, account_domains, build_index
from monitor.types import Account

log = logging.getLogger(__name__)

SUFFIX = ".idscreen"


@dataclass(frozen=True, slots=True, kw_only=True)
class Opened:
    """How the screen was obtained: `loaded` (reused), `built` (none yet), `rebuilt` (stale or
    rejected, `reason` says why)."""

    index: IdentityIndex
    status: str
    reason: str = ""


def screen_path(accounts_file: Path) -> Path:
    return accounts_file.with_name(accounts_file.name + SUFFIX)


@dataclass(slots=True, kw_only=True, eq=False)
class IdentitySource:
    """The accounts of a config, as a screen opened on first use (once per process)."""

    accounts_file: Path
    inline: tuple[str, ...]
    email_domains: Mapping[str, str | None]
    key: bytes
    _opened: Opened | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def path(self) -> Path:
        return screen_path(self.accounts_file)

    def index(self) -> IdentityIndex:
        return self.open().index

    def open(self) -> Opened:
        with self._lock:
            if self._opened is None:
                self._opened = self._open()
            return self._opened

    def _open(self) -> Opened:
        path = self.path
        previous: dict[str, Any] = {}
        status, reason = "built", ""
        loaded = None
        if path.exists():
            try:
                loaded = load(path, self.key)
                previous = loaded.meta
            except ScreenFileError as exc:
                status, reason = "rebuilt", str(exc)
                log.warning("identity screen rejected", extra={"path": str(path), "why": reason})
        source = self._source_stamp(previous.get("source"))
        inputs = self._inputs_digest(source["sha256"])
        if loaded is not None:
            if previous.get("inputs") == inputs:
                return Opened(index=loaded.index, status="loaded")
            status = "rebuilt"
            reason = "the accounts, the partners' e-mail domains or the fingerprint key changed"
            log.info("identity screen stale", extra={"path": str(path)})
        # The domains' Hyperscan database first (its compiler's memory is given back before
        # the index is built: the peak is the larger of the two, not their sum).
        domains = account_domains(self._accounts())
        compiled = scanner_db(domains)
        index = build_index(self._accounts(), self.key)
        if index.domains != domains:  # the CSV changed between the two reads
            compiled = scanner_db(index.domains)
        index = replace(index, scanner_db=compiled)
        try:
            save(path, index, {"inputs": inputs, "source": source})
        except OSError as exc:
            log.warning(
                "identity screen not saved", extra={"path": str(path), "error": exc.strerror}
            )
        log.info("identity screen built", extra={"path": str(path), "accounts": len(index)})
        return Opened(index=index, status=status, reason=reason)

    def _accounts(self) -> Iterator[Account]:
        return configured_accounts(self.inline, self.accounts_file, self.email_domains)

    def _source_stamp(self, known: Any) -> dict[str, Any]:
        """The CSV's size, modification time and SHA-256 (reused from `known` when the size
        and modification time are those it was hashed at)."""
        st = self.accounts_file.stat()
        stamp: dict[str, Any] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
        if (
            isinstance(known, dict)
            and known.get("size") == st.st_size
            and known.get("mtime_ns") == st.st_mtime_ns
            and isinstance(known.get("sha256"), str)
        ):
            return {**stamp, "sha256": known["sha256"]}
        digest = hashlib.sha256()
        with self.accounts_file.open("rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
        return {**stamp, "sha256": digest.hexdigest()}

    def _inputs_digest(self, file_sha256: str) -> str:
        from monitor.keys import key_id  # the key's public id (monitor.keys pulls in the store)

        what = [
            FORMAT,
            key_id(self.key),
            sorted((d, p or "") for d, p in self.email_domains.items()),
            list(self.inline),
            file_sha256,
        ]
        return hashlib.sha256(json.dumps(what).encode("utf-8")).hexdigest()
