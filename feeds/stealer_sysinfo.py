"""Stealer system-info files → infection date, machine id, country and stealer family."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from feeds.stealer_family import Content, banner_tags, family_of

# `Label: value`, optionally bulleted with `-` (StealC, Lumma, Raccoon); labels may hold `()`.
_LINE_RE = re.compile(r"\s*(?:-\s*)?([A-Za-z][A-Za-z0-9 _()/.\-]{0,40}?)\s*:\s*(.*?)\s*")
_SIG_RE = re.compile(r"\s*[(\[].*$")  # `(sig:...)` and similar trailing notes
_OFFSET_RE = re.compile(
    r"\(?\s*(?:UTC|GMT)?\s*([+-]?)\s*(\d{1,2})(?::?(\d{2}))?(?!\d)", re.IGNORECASE
)
_ZIP_RE = re.compile(r"\s*\([^)]*\)\s*$")
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemInfo:
    """What a system-info file tells about the infected machine."""

    infected_at: datetime | None  # timezone-aware; UTC when the file gives no offset
    machine_id: str | None  # HWID / MachineID / UID as written (the caller hashes it)
    country: str | None  # ISO code when given ("FR"), else the text
    family: str | None  # "redline", "meta", "vidar", "stealc", "lumma", "risepro", ...


def _strptime(formats: tuple[str, ...]) -> Callable[[str], datetime | None]:
    def parse(value: str) -> datetime | None:
        text = " ".join(_SIG_RE.sub("", value).split())
        for fmt in formats:
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
        return None

    return parse


def _padded_ymd(value: str) -> datetime | None:
    """StealC `2024/6/22 15:49:7`: Y/M/D h:m:s, fields not zero-padded."""
    m = re.fullmatch(r"(\d{4})/(\d{1,2})/(\d{1,2})\s+(\d{1,2}):(\d{1,2}):(\d{1,2})", value.strip())
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


# Per family: (date labels in order of preference, parser for their values).
_MDY = _strptime(("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S"))
_DMY = _strptime(("%d/%m/%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S"))
_DOTTED = _strptime(("%d.%m.%Y %H:%M:%S",))
_CTIME = _strptime(("%a %b %d %H:%M:%S %Y",))
_RHADA = _strptime(("%d %b %y %H:%M UTC", "%d %b %y %H:%M"))
_MEDUZA = _strptime(("%d-%m-%Y, %H:%M:%S", "%d-%m-%Y %H:%M:%S"))
_DATES: dict[str, tuple[tuple[str, Callable[[str], datetime | None], bool], ...]] = {
    # (label, parser, value is UTC)
    "redline": (("log date", _MDY, False),),
    "meta": (("log date", _MDY, False),),
    "vidar": (("date", _DMY, False), ("local time", _DMY, False)),
    "stealc": (("local time", _padded_ymd, False),),
    # Lumma `Time:` carries the signed server-side timestamp in UTC (`Local Date:` is local).
    "lumma": (("time", _DOTTED, True), ("local date", _DOTTED, False)),
    "risepro": (("date", _CTIME, False),),
    "rhadamanthys": (("install date", _RHADA, True),),
    "meduza": (("log date", _MEDUZA, False),),
    "raccoon": (),
    "atomic": (),
    # StarStealer `Time: 11/3/2024 9:41:07 PM`, no zone given.
    "starstealer": (("time", _MDY, False),),
}
_GENERIC_DATES = (
    ("log date", _MDY, False),
    ("log date", _MEDUZA, False),
    ("date", _DMY, False),
    ("date", _CTIME, False),
    ("local time", _padded_ymd, False),
    ("local date", _DOTTED, False),
)
_OFFSET_LABELS = ("timezone", "time zone", "utc")
_ID_LABELS = ("hwid", "machineid", "machine id", "uid", "guid", "bot_id", "user id")
_COUNTRY_LABELS = ("country", "country code", "location")


def _content(lines: Iterable[tuple[int, str]]) -> Content:
    """First value of each label (lower-case), every label seen, and the banner tags."""
    fields: dict[str, str] = {}
    labels: set[str] = set()
    banners: set[str] = set()
    for _number, raw in lines:
        banners |= banner_tags(raw)
        m = _LINE_RE.fullmatch(raw)
        if m is None:
            continue
        label = " ".join(m.group(1).lower().split())
        labels.add(label)
        if label not in fields and m.group(2):
            fields[label] = m.group(2)
    return Content(fields, labels, banners)


def _offset(fields: dict[str, str]) -> timezone | None:
    """The UTC offset a file states (`TimeZone: (UTC+04:00) ...`, `TimeZone: -5`, `UTC: 5`)."""
    for label in _OFFSET_LABELS:
        m = _OFFSET_RE.match(fields.get(label, "").strip())
        if m is None:
            continue
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours > 14 or minutes > 59:
            continue
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(-delta if m.group(1) == "-" else delta)
    return None


def _plausible(moment: datetime) -> datetime | None:
    """`moment` (aware) in UTC when it is a plausible infection date; None otherwise, also when
    the conversion would leave the calendar (`1/1/0001` east of UTC)."""
    try:
        utc = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return utc if _EARLIEST <= utc < _LATEST else None


def _infected_at(family: str | None, fields: dict[str, str]) -> datetime | None:
    rules = _DATES.get(family, _GENERIC_DATES) if family else _GENERIC_DATES
    offset = _offset(fields)
    for label, parse, is_utc in rules:
        value = fields.get(label)
        if not value:
            continue
        moment = parse(value)
        if moment is None:
            continue
        zone = UTC if is_utc or offset is None else offset
        return _plausible(moment.replace(tzinfo=zone))
    return None


def _machine_id(fields: dict[str, str]) -> str | None:
    for label in _ID_LABELS:
        value = fields.get(label, "").strip()
        if value and value.lower() not in ("unknown", "none", "null", "-", "[redacted]"):
            return value
    return None


def _country(fields: dict[str, str]) -> str | None:
    for label in _COUNTRY_LABELS:
        value = fields.get(label, "").strip()
        if not value or value.lower() in ("unknown", "none", "null", "-", "[redacted]"):
            continue
        if label == "location":
            if "|" in value:  # Raccoon: `52.27, 21.08 | Warsaw, Mazovia, Poland (03-890)`
                value = _ZIP_RE.sub("", value.split("|", 1)[1]).split(",")[-1].strip()
            else:  # RisePro: `EG, Cairo`; other families put a city here
                value = value.split(",", 1)[0].strip()
                if len(value) != 2:
                    continue
            if not value:
                continue
        return _iso_country(value)
    return None


# English country names stealers write, to ISO 3166-1 alpha-2 (the common ones; others stay text).
_COUNTRY_CODES = {
    "united states": "US", "usa": "US", "united states of america": "US", "france": "FR",
    "germany": "DE", "russia": "RU", "russian federation": "RU", "ukraine": "UA", "brazil": "BR",
    "india": "IN", "china": "CN", "united kingdom": "GB", "great britain": "GB", "spain": "ES",
    "italy": "IT", "poland": "PL", "turkey": "TR", "türkiye": "TR", "netherlands": "NL",
    "canada": "CA", "mexico": "MX", "argentina": "AR", "colombia": "CO", "indonesia": "ID",
    "vietnam": "VN", "viet nam": "VN", "philippines": "PH", "pakistan": "PK", "egypt": "EG",
    "japan": "JP", "south korea": "KR", "korea": "KR", "australia": "AU", "portugal": "PT",
    "belgium": "BE", "switzerland": "CH", "austria": "AT", "sweden": "SE", "norway": "NO",
    "denmark": "DK", "finland": "FI", "romania": "RO", "kazakhstan": "KZ", "belarus": "BY",
    "syria": "SY", "iran": "IR", "israel": "IL", "saudi arabia": "SA", "thailand": "TH",
    "malaysia": "MY", "nigeria": "NG", "south africa": "ZA", "peru": "PE", "chile": "CL",
}  # fmt: skip
_PAREN_CODE_RE = re.compile(r"\(([A-Za-z]{2})\)")


def _iso_country(value: str) -> str:
    """`FR`, `fr`, `France`, `Russia (RU)` → the ISO code; anything else as written."""
    if len(value) == 2 and value.isalpha():
        return value.upper()
    m = _PAREN_CODE_RE.search(value)
    if m is not None:
        return m.group(1).upper()
    return _COUNTRY_CODES.get(" ".join(value.lower().split()), value)


def parse_sysinfo(name: str, lines: Iterable[tuple[int, str]]) -> SystemInfo:
    """Read a system-info file (`name` is its member path, used to tell the family)."""
    content = _content(lines)
    fields = dict(content.fields)
    family = family_of(name, content)
    return SystemInfo(
        infected_at=_infected_at(family, fields),
        machine_id=_machine_id(fields),
        country=_country(fields),
        family=family,
    )


_ISO_FOLDER_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2})_(\d{2})_(\d{2})(?:\.(\d{1,7}))?(?:([+-])(\d{2})_(\d{2})|Z)?"
)
_UNDERSCORE_FOLDER_RE = re.compile(
    r"(?<!\d)(\d{4})_(\d{2})_(\d{2})T(\d{2})_(\d{2})_(\d{2})(?:_(\d{1,7}))?(?!\d)"
)
_COMPACT_FOLDER_RE = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})(?!\d)")


def date_from_folder(folder: str) -> datetime | None:
    """The infection date a victim folder name carries, or None (also when out of range).

    `HU[HWID] [2023-11-01T11_57_58.8718608-07_00]]`, `HWID_2024_08_10T13_08_50_585685]`,
    `name_20240810_130850`.
    """
    base = folder.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    for regex in (_ISO_FOLDER_RE, _UNDERSCORE_FOLDER_RE, _COMPACT_FOLDER_RE):
        m = regex.search(base)
        if m is None:
            continue
        groups = m.groups()
        fraction = groups[6] if len(groups) > 6 and groups[6] else "0"
        zone = UTC
        if len(groups) > 7 and groups[7]:
            delta = timedelta(hours=int(groups[8]), minutes=int(groups[9]))
            if delta >= timedelta(hours=24):
                return None
            zone = timezone(-delta if groups[7] == "-" else delta)
        year, month, day, hour, minute, second = (int(g) for g in groups[:6])
        try:
            moment = datetime(
                year,
                month,
                day,
                hour,
                minute,
                second,
                int(fraction.ljust(6, "0")[:6]),
                tzinfo=zone,
            )
        except ValueError:
            return None
        return _plausible(moment)
    return None
