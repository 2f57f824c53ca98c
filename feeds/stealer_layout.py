"""Stealer-log archive layout: what each member is, and which victim folder it belongs to."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class FileRole(StrEnum):
    PASSWORDS = "passwords"
    SYSINFO = "sysinfo"
    COOKIES = "cookies"
    IGNORE = "ignore"


# Folders a stealer writes inside a victim folder. A victim root is never at or below one of them.
_SUBFOLDERS = frozenset(
    {
        "brave",
        "chrome",
        "chromium",
        "edge",
        "firefox",
        "google chrome",
        "microsoft edge",
        "mozilla firefox",
        "opera",
        "opera gx",
        "vivaldi",
        "yandex",
        "autofill",
        "autofills",
        "browser",
        "browsers",
        "cc",
        "cookies",
        "creditcards",
        "credit cards",
        "desktop",
        "discord",
        "documents",
        "extension",
        "extensions",
        "filegrabber",
        "grabber",
        "grabfiles",
        "history",
        "messengers",
        "screenshots",
        "steam",
        "telegram",
        "usb",
        "wallets",
    }
)
# Platform litter (macOS resource forks, Finder and Explorer caches): never a member at all.
LITTER_FOLDERS = frozenset({"__macosx"})
LITTER_FILES = frozenset({".ds_store", "thumbs.db"})
# Folders whose content is never stealer text output (victim documents, wallets, chats, history).
_IGNORED_FOLDERS = LITTER_FOLDERS | {
    "autofill",
    "autofills",
    "cc",
    "creditcards",
    "credit cards",
    "desktop",
    "documents",
    "filegrabber",
    "grabber",
    "grabfiles",
    "history",
    "screenshots",
    "telegram",
    "usb",
    "wallets",
}
_IGNORED_FILES = LITTER_FILES | {"desktop.ini", "brute.txt"}
# Stealer output that holds no credentials, not even as a text base: skipped, never scanned.
NOISE_FOLDERS = _IGNORED_FOLDERS | {
    "discord",
    "steam",
    "messengers",
    "fingerprint",
    "masterkeys",
}
NOISE_FILES = _IGNORED_FILES | {
    "installedsoftware.txt",
    "installed software.txt",
    "processlist.txt",
    "process list.txt",
    "domaindetects.txt",
    "ip.txt",
}
_SYSINFO_FILES = frozenset(
    {
        "userinformation.txt",
        "information.txt",
        "system.txt",
        "system_info.txt",
        "system info.txt",
        "systeminfo.txt",
        "userinfo.txt",
        "_information.txt",
        "system_information.txt",
    }
)
# Passwords.txt, All Passwords.txt, _AllPasswords_list.txt, Password List.txt,
# Passwords[Chrome]_Default.txt, Passwords_Edge.txt; never PasswordCracker.txt.
_PASSWORDS_RE = re.compile(
    r"_*(?:all[ _-]*)?passwords?(?![a-z])(?!.*crack)(?:[ _-]*list)?(?:[ _\-\[(].*)?\.txt",
    re.IGNORECASE,
)
_COOKIE_FILE_RE = re.compile(r"cookies?(?:_[^/]*)?\.txt", re.IGNORECASE)


def _parts(name: str) -> list[str]:
    """Path components of a member name: `\\` counts as `/`; empty and `.` parts dropped."""
    return [p for p in name.replace("\\", "/").split("/") if p and p != "."]


def _is_in(name: str, files: frozenset[str], folders: frozenset[str]) -> bool:
    parts = [p.lower() for p in name.split("/") if p]
    if not parts:
        return True
    return parts[-1] in files or any(p in folders for p in parts[:-1])


def is_litter(name: str) -> bool:
    """True for platform litter (`__MACOSX/`, `.DS_Store`, `Thumbs.db`) a walk never yields.

    `name` is "/"-separated; the test is case-insensitive. An empty name is litter.
    """
    return _is_in(name, LITTER_FILES, LITTER_FOLDERS)


# What stealers write beside the credentials, in no shape a parser knows: process and software
# lists, debug output, the clipboard, a browser's Google or Steam session tokens (no account
# named, so nothing to match). Read like any text all the same (credential lines in them are
# still found), but never reported as an unknown format: they are expected, not missed.
_ARTIFACT_FILES = frozenset(
    {"debug.txt", "software.txt", "processes.txt", "clipboard.txt", "googletokens.txt"}
)
_ARTIFACT_RE = re.compile(r"(?:google_\[[^\]]*\]_.*token|steam_tokens?)\.txt", re.IGNORECASE)


def is_artifact(name: str) -> bool:
    """True for stealer output of no known shape that is expected, not missed (see above)."""
    parts = _parts(name)
    if not parts:
        return False
    base = parts[-1].lower()
    return base in _ARTIFACT_FILES or _ARTIFACT_RE.fullmatch(base) is not None


def is_noise(name: str) -> bool:
    """True for a member that holds no credentials: its file or one of its folders is noise.

    `name` is "/"-separated; the test is case-insensitive. An empty name is noise.
    """
    return _is_in(name, NOISE_FILES, NOISE_FOLDERS)


def classify(name: str) -> FileRole:
    """The role of an archive member, from its "/"-separated path (case-insensitive)."""
    parts = _parts(name)
    if not parts:
        return FileRole.IGNORE
    base = parts[-1].lower()
    folders = [p.lower() for p in parts[:-1]]
    if base in _IGNORED_FILES or not base.endswith(".txt") or "#" in base:
        return FileRole.IGNORE
    if any(f in _IGNORED_FOLDERS for f in folders):
        return FileRole.IGNORE
    if "cookies" in folders or _COOKIE_FILE_RE.fullmatch(base):
        return FileRole.COOKIES
    if base in _SYSINFO_FILES:
        return FileRole.SYSINFO
    if _PASSWORDS_RE.fullmatch(base):
        return FileRole.PASSWORDS
    return FileRole.IGNORE


def _candidate(folder_parts: list[str]) -> tuple[str, ...]:
    """The folder cut before the first stealer sub-folder (`v/Browser/Chrome/Default` → `v`)."""
    for i, part in enumerate(folder_parts):
        if part.lower() in _SUBFOLDERS:
            return tuple(folder_parts[:i])
    return tuple(folder_parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class Anchors:
    """Folders (as path tuples) known to be victim folders, from the whole member list."""

    sysinfo: frozenset[tuple[str, ...]]  # directly hold a system-info file: one per victim
    other: frozenset[tuple[str, ...]]  # directly hold a passwords file or a Cookies/ folder


def victim_root(name: str, anchors: Anchors | None = None) -> str:
    """The victim folder holding `name` ("" for the archive root).

    Without `anchors` it only looks at the name: the member's folder, cut before the first
    stealer sub-folder (Cookies, Browser, Chrome, History, Wallets...). With `anchors` (see
    `victim_anchors`), the deepest folder above the member that holds a system-info file
    wins, else the deepest that holds a passwords or cookie file, so wrapper folders and
    nested browser folders fall into place.
    """
    candidate = _candidate(_parts(name)[:-1])
    if anchors is not None:
        for known in (anchors.sysinfo, anchors.other):
            for depth in range(len(candidate), -1, -1):
                if candidate[:depth] in known:
                    return "/".join(candidate[:depth])
    return "/".join(candidate)


def victim_anchors(names: Iterable[str]) -> Anchors:
    """The victim folders the member list proves: those holding stealer output directly."""
    sysinfo: set[tuple[str, ...]] = set()
    other: set[tuple[str, ...]] = set()
    for name in names:
        role = classify(name)
        if role is FileRole.SYSINFO:
            sysinfo.add(_candidate(_parts(name)[:-1]))
        elif role is not FileRole.IGNORE:
            other.add(_candidate(_parts(name)[:-1]))
    return Anchors(sysinfo=frozenset(sysinfo), other=frozenset(other))


def group_victims(names: Iterable[str]) -> dict[str, list[str]]:
    """Members grouped by victim folder; the result does not depend on the input order."""
    all_names = list(names)
    anchors = victim_anchors(all_names)
    groups: dict[str, list[str]] = {}
    for name in all_names:
        groups.setdefault(victim_root(name, anchors), []).append(name)
    return {root: sorted(groups[root]) for root in sorted(groups)}
