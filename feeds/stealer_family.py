"""Which stealer wrote a system-info file: told from its content, its name only as a tie-breaker.

Several families share a file name (`UserInformation.txt` is RedLine, META, Rhadamanthys and
macOS Atomic; `System.txt` is Lumma and AZORult; `information.txt` is Vidar and RisePro), so
the banner lines and the set of labels decide; the name picks among the families the content
allows, and decides alone only when the content says nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass

# File name (lower-case) → family, the tie-breaker.
FAMILY_BY_NAME = {
    "system.txt": "lumma",
    "system_info.txt": "stealc",
    "system info.txt": "raccoon",
    "systeminfo.txt": "raccoon",
    "userinfo.txt": "meduza",
    "_information.txt": "cryptbot",
    "system_information.txt": "banshee",
    "userinformation.txt": "redline",
    "information.txt": "vidar",
}
# Banner text (lower-case substring) → tag; a product banner names its family.
_BANNERS = (
    ("atomic mac stealer", "atomic"),
    ("amos stealer", "atomic"),
    ("azorult", "azorult"),
    ("lummac2", "lumma"),
    ("stealc stealer", "stealc"),
    ("vidar stealer", "vidar"),
    ("raccoon stealer", "raccoon"),
    ("redline stealer", "redline"),
    ("banshee stealer", "banshee"),
    ("starstealer", "starstealer"),
)
_META_RE = re.compile(r"\bM\s*\|\s*E\s*\|\s*T\s*\|\s*A\b|\bMETA\b")


@dataclass(frozen=True, slots=True)
class Content:
    """What a system-info file shows: first value per label, every label, banner tags."""

    fields: Mapping[str, str]
    labels: Set[str]
    banners: Set[str]

    def has(self, *labels: str) -> bool:
        return any(label in self.labels for label in labels)


def banner_tags(line: str) -> set[str]:
    """The banner tags one raw line carries (one pass per banner, no backtracking)."""
    tags: set[str] = set()
    if _META_RE.search(line):
        tags.add("meta")
    lower = line.lower()
    for text, tag in _BANNERS:
        if text in lower:
            tags.add(tag)
    return tags


def _macos(c: Content) -> bool:
    product = c.fields.get("productname", "").lower()
    return "macos" in product or "mac os" in product or c.has("hardware uuid", "model identifier")


def _ctime_date(value: str) -> bool:
    parts = value.split()
    return len(parts) == 5 and parts[0][:1].isalpha() and parts[1][:1].isalpha()


def _windows_redline(c: Content) -> bool:
    return c.has("build id", "filelocation", "machinename", "screensize", "operation system")


# Ordered rules: (families the content allows, default first; test on the content).
_RULES: tuple[tuple[tuple[str, ...], Callable[[Content], bool]], ...] = (
    (("atomic",), lambda c: "atomic" in c.banners),
    (("starstealer",), lambda c: "starstealer" in c.banners),
    (("banshee",), lambda c: "banshee" in c.banners),
    (("atomic", "banshee"), _macos),
    (("lumma",), lambda c: "lumma" in c.banners or c.has("lummac2 build")),
    (("lumma",), lambda c: c.has("lid") and c.has("configuration")),
    # AZORult: `EXE_PATH:`, `Computer(Username) :`, `Layouts:` (no Lumma build line).
    (("azorult",), lambda c: "azorult" in c.banners or c.has("exe_path", "computer(username)")),
    (("rhadamanthys",), lambda c: c.has("traffic name", "wallpaper hash")),
    (("meta",), lambda c: "meta" in c.banners and c.has("log date")),
    (("redline",), lambda c: c.has("log date") and _windows_redline(c)),
    (("meduza",), lambda c: c.has("log date") and c.has("build name", "country code")),
    (("rhadamanthys",), lambda c: c.has("install date") and not c.has("log date", "work dir")
     and "utc" in c.fields.get("install date", "").lower()),
    (("redline", "meta", "meduza"), lambda c: c.has("log date")),
    (("risepro",), lambda c: c.has("zip (autofills)") or _ctime_date(c.fields.get("date", ""))
     or (c.has("build") and c.has("work dir"))),
    (("vidar",), lambda c: "vidar" in c.banners or c.has("work dir")),
    (("stealc",), lambda c: "stealc" in c.banners or c.has("network info", "system summary",
                                                            "running path")),
    (("raccoon",), lambda c: "raccoon" in c.banners or c.has("bot_id", "build compile date")
     or "|" in c.fields.get("location", "")),
)  # fmt: skip


def family_of(name: str, content: Content) -> str | None:
    """The family of the system-info file `name` (its member path) with this content."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    hint = FAMILY_BY_NAME.get(base)
    for families, test in _RULES:
        if test(content):
            return hint if hint in families else families[0]
    return hint
