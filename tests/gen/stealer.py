"""Synthetic stealer-log victim folders (passwords, system info, cookies) for tests; no real data.

Shapes follow the research notes in the design's reference on stealer-log formats. RedLine, META,
Raccoon, Vidar, StealC and Lumma blocks are documented; RisePro, Rhadamanthys and Meduza password
blocks are not, so their generated shapes are robustness cases (their system-info files are).

    files = victim_files("vidar", creds=[("https://a.example/x", "bob@example.org", "pw")],
                         infected_at=datetime(2025, 7, 19, 17, 14, 5, tzinfo=UTC))
    members = with_prefix(victim_folder("vidar", hwid="ABC", infected_at=...), files)
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

FAMILIES: tuple[str, ...] = (
    "redline",
    "meta",
    "raccoon",
    "vidar",
    "stealc",
    "lumma",
    "risepro",
    "rhadamanthys",
    "meduza",
)
# Label spellings a family's password file may use; the first is the family's default.
VARIANTS: dict[str, tuple[str, ...]] = {
    "redline": ("default", "obfuscated"),
    "meta": ("default",),
    "raccoon": ("v2", "v1"),
    "vidar": ("default",),
    "stealc": ("default", "bracket"),
    "lumma": ("default", "blank"),
    "risepro": ("default",),
    "rhadamanthys": ("default",),
    "meduza": ("default",),
}
LABEL_CASES: tuple[str, ...] = ("as_is", "upper", "lower", "title")
ENCODINGS: tuple[str, ...] = ("utf-8", "utf-8-sig", "utf-16-le", "utf-16-be", "cp1251")
NEWLINES: tuple[str, ...] = ("\n", "\r\n", "mixed")
# Families whose system-info file states a UTC offset next to a local time.
OFFSET_FAMILIES = frozenset({"redline", "meta", "vidar", "stealc", "lumma"})

PASSWORD_FILE = {
    "redline": "Passwords.txt",
    "meta": "Passwords.txt",
    "raccoon": "passwords.txt",
    "vidar": "passwords.txt",
    "stealc": "passwords.txt",
    "lumma": "Browser/Chrome/Default/Passwords.txt",
    "risepro": "Passwords.txt",
    "rhadamanthys": "Passwords.txt",
    "meduza": "All_Passwords.txt",
}
SYSINFO_FILE = {
    "redline": "UserInformation.txt",
    "meta": "UserInformation.txt",
    "raccoon": "System Info.txt",
    "vidar": "information.txt",
    "stealc": "system_info.txt",
    "lumma": "System.txt",
    "risepro": "information.txt",
    "rhadamanthys": "UserInformation.txt",
    "meduza": "UserInfo.txt",
}

_BANNERS = {
    "redline": [
        "*******************************************",
        "*  ____  _____ ____  _     ___ _   _ _____ *",
        "* |  _ \\| ____|  _ \\| |   |_ _| \\ | | ____|*",
        "*******************************************",
        "Telegram: https://t.me/example_logs_channel",
    ],
    "meta": [
        "*****************************",
        "*     ( M | E | T | A )     *",
        "*****************************",
        "Seller: example-seller",
        "Telegram: https://t.me/example_meta_cloud",
    ],
    "raccoon": ["#### ## Raccoon ## ####", "Free Logs: https://t.me/example_free", ""],
    "vidar": ["Лучшие логи только у нас!", "Покупка: https://t.me/example_vidar", ""],
    "stealc": ["  _____ _             _  _____", "Log Tools: https://t.me/example_tools", ""],
    "lumma": ["Lumma logs — свежие каждый день", "https://t.me/example_lumma", ""],
    "risepro": ["RisePro logs", "Telegram: https://t.me/example_rise", ""],
    "rhadamanthys": ["==== Rhadamanthys ====", "https://t.me/example_rhada", ""],
    "meduza": ["Meduza Stealer", "Telegram: https://t.me/example_meduza", ""],
}


@dataclass(frozen=True, slots=True)
class _Shape:
    fields: tuple[str, ...]  # "soft", "profile", "url", "login", "password", "bracket"
    labels: Mapping[str, str]
    separator: str | None  # a line after every block; "" for a blank line; None for none
    soft: str
    unknown_login: str = "UNKNOWN"


_REDLINE = {"url": "URL", "login": "Username", "password": "Password", "soft": "Application"}
_SHAPES: dict[tuple[str, str], _Shape] = {
    ("redline", "default"): _Shape(
        ("url", "login", "password", "soft"),
        _REDLINE,
        "===============",
        "Google_[Chrome]_Profile 1",
    ),
    ("redline", "obfuscated"): _Shape(
        ("url", "login", "password", "soft"),
        {"url": "UR1", "login": "U53RN4M3", "password": "P455W0RD", "soft": "Application"},
        "===============",
        "Google_[Chrome]_Default",
    ),
    ("meta", "default"): _Shape(
        ("url", "login", "password", "soft"), _REDLINE, "===============", "Google_[Chrome]_Default"
    ),
    ("raccoon", "v2"): _Shape(
        ("url", "login", "password"), {"url": "URL", "login": "USER", "password": "PASS"}, "", ""
    ),
    ("raccoon", "v1"): _Shape(
        ("url", "login", "password"),
        {"url": "Host", "login": "Login", "password": "Password"},
        "",
        "",
    ),
    ("vidar", "default"): _Shape(
        ("soft", "url", "login", "password"),
        {"soft": "Soft", "url": "Host", "login": "Login", "password": "Password"},
        "",
        "Google Chrome [Default]",
    ),
    ("stealc", "default"): _Shape(
        ("soft", "profile", "url", "login", "password"),
        {
            "soft": "browser",
            "profile": "profile",
            "url": "url",
            "login": "login",
            "password": "password",
        },
        "",
        "Google Chrome",
    ),
    ("stealc", "bracket"): _Shape(
        ("bracket", "url", "login", "password"),
        {"url": "url", "login": "login", "password": "password"},
        "",
        "Google Chrome",
    ),
    ("lumma", "default"): _Shape(
        ("soft", "url", "login", "password"),
        {"soft": "SOFT", "url": "URL", "login": "USER", "password": "PASS"},
        None,
        "Chrome Default (124.0)",
    ),
    ("lumma", "blank"): _Shape(
        ("soft", "url", "login", "password"),
        {"soft": "SOFT", "url": "URL", "login": "USER", "password": "PASS"},
        "",
        "Chrome Default (124.0)",
    ),
    ("risepro", "default"): _Shape(
        ("url", "login", "password", "soft"),
        {"url": "url", "login": "login", "password": "password", "soft": "Soft"},
        "------------------------------",
        "Chrome (Default)",
    ),
    ("rhadamanthys", "default"): _Shape(
        ("soft", "password", "url", "login"),
        {"soft": "Browser", "url": "Url", "login": "Login", "password": "Password"},
        "========Rhadamanthys========",
        "Chrome",
    ),
    ("meduza", "default"): _Shape(
        ("url", "login", "password"),
        {"url": "URL", "login": "Username", "password": "Password"},
        "",
        "",
    ),
}
SOFTWARE: dict[tuple[str, str], str | None] = {
    ("redline", "default"): "Google_[Chrome]_Profile 1",
    ("redline", "obfuscated"): "Google_[Chrome]_Default",
    ("meta", "default"): "Google_[Chrome]_Default",
    ("raccoon", "v2"): None,
    ("raccoon", "v1"): None,
    ("vidar", "default"): "Google Chrome [Default]",
    ("stealc", "default"): "Google Chrome [Default]",
    ("stealc", "bracket"): "Google Chrome [Default]",
    ("lumma", "default"): "Chrome Default (124.0)",
    ("lumma", "blank"): "Chrome Default (124.0)",
    ("risepro", "default"): "Chrome (Default)",
    ("rhadamanthys", "default"): "Chrome",
    ("meduza", "default"): None,
}


def _case(label: str, label_case: str) -> str:
    if label_case == "upper":
        return label.upper()
    if label_case == "lower":
        return label.lower()
    if label_case == "title":
        return label.title()
    return label


def password_file(
    family: str,
    creds: Sequence[tuple[str, str, str]],
    *,
    variant: str | None = None,
    label_case: str = "as_is",
    banner: bool = True,
) -> tuple[list[str], list[int]]:
    """A family's password file as lines, and the 1-based line of each credential's password.

    `creds` are (url, login, password); an empty login is written as the family's placeholder.
    """
    shape = _SHAPES[(family, variant or VARIANTS[family][0])]
    lines: list[str] = list(_BANNERS[family]) if banner else []
    if banner and family in ("redline", "meta"):
        lines.append("===============")
    password_lines: list[int] = []
    for url, login, password in creds:
        values = {
            "soft": shape.soft,
            "profile": "Default",
            "url": url,
            "login": login or shape.unknown_login,
            "password": password,
        }
        for field in shape.fields:
            if field == "bracket":
                lines.append(f'["{shape.soft}" = "Default"]')
                continue
            lines.append(f"{_case(shape.labels[field], label_case)}: {values[field]}")
            if field == "password":
                password_lines.append(len(lines))
        if shape.separator is not None:
            lines.append(shape.separator)
    return lines, password_lines


def local_time(infected_at: datetime, utc_offset_hours: int) -> datetime:
    """The wall-clock time a victim machine at `utc_offset_hours` shows for `infected_at`."""
    return infected_at.astimezone(timezone(timedelta(hours=utc_offset_hours))).replace(tzinfo=None)


def expected_infected_at(family: str, infected_at: datetime) -> datetime | None:
    """What a correct reader gets back from the family's system-info file (UTC, its precision)."""
    moment = infected_at.astimezone(UTC)
    if family == "raccoon":
        return None
    if family == "rhadamanthys":
        return moment.replace(second=0, microsecond=0)
    return moment.replace(microsecond=0)


def _offset_text(hours: int, style: str) -> str:
    sign = "-" if hours < 0 else "+"
    if style == "windows":
        return f"(UTC{sign}{abs(hours):02d}:00) Example Standard Time"
    return f"{hours}"


def sysinfo_file(
    family: str,
    *,
    infected_at: datetime,
    hwid: str = "63B68E8B4439C38B4A31EED5198473DF",
    country: str = "FR",
    utc_offset_hours: int = 0,
    banner: bool = True,
) -> list[str]:
    """A family's system-info file as lines, with the infection date in the family's format.

    Families in OFFSET_FAMILIES write the local time and the offset; the others write UTC.
    """
    utc = infected_at.astimezone(UTC).replace(tzinfo=None)
    offset = utc_offset_hours if family in OFFSET_FAMILIES else 0
    local = local_time(infected_at, offset)
    if family in ("redline", "meta"):
        if family == "redline":
            hour12 = local.hour % 12 or 12
            ampm = "AM" if local.hour < 12 else "PM"
            log_date = (
                f"{local.month}/{local.day}/{local.year} "
                f"{hour12}:{local.minute:02d}:{local.second:02d} {ampm}"
            )
        else:
            log_date = local.strftime("%m/%d/%Y %H:%M:%S")
        head = ["*     ( M | E | T | A )     *", ""] if family == "meta" and banner else []
        return [
            *head,
            "Build ID: TG",
            "IP: 198.51.100.23",
            "FileLocation: C:\\Users\\User\\AppData\\Roaming\\x.exe",
            "UserName: User",
            "MachineName: DESKTOP-TEST01",
            f"Country: {country}",
            "Zip Code: UNKNOWN",
            "Location: Grenoble, Auvergne-Rhone-Alpes",
            f"HWID: {hwid}",
            "Current Language: French (France)",
            "ScreenSize: {Width=1536, Height=864}",
            f"TimeZone: {_offset_text(offset, 'windows')}",
            "Operation System: Windows 10 Pro x64",
            f"Log date: {log_date}",
            "",
            "Hardwares:",
            "Name: Intel(R) Core(TM) i5-6300U CPU @ 2.40GHz, 2 Cores",
            "Anti-Viruses:",
            "Windows Defender",
        ]
    if family == "vidar":
        head = ["Лучшие логи только у нас!", ""] if banner else []
        return [
            *head,
            "Ip: 198.51.100.23",
            f"Country: {country}",
            "Version: 12",
            f"Date: {local.strftime('%d/%m/%Y %H:%M:%S')}",
            "MachineID: 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "GUID: {7a6b5c4d-3e2f-1a0b-9c8d-7e6f5a4b3c2d}",
            f"HWID: {hwid}",
            "Path: C:\\ProgramData\\x.exe",
            "Work Dir: In memory",
            "Windows: Windows 10 Pro [x64]",
            "Install Date: Disabled",
            "AV: Disabled",
            "Computer Name: DESKTOP-TEST01",
            "User Name: User",
            "Keyboard Languages: French (France) / English (United States)",
            f"Local Time: {local.strftime('%d/%m/%Y %H:%M:%S')}",
            f"TimeZone: {_offset_text(offset, 'hours')}",
            "",
            "[Hardware]",
            "Processor: Intel(R) Core(TM) i5-6300U CPU @ 2.40GHz",
            "VideoCard: Intel(R) HD Graphics 520",
        ]
    if family == "stealc":
        head = ["Log Tools: https://t.me/example_tools", ""] if banner else []
        stamp = f"{local.year}/{local.month}/{local.day} {local.hour}:{local.minute}:{local.second}"
        return [
            *head,
            "Network Info:",
            "\t- IP: 198.51.100.23",
            f"\t- Country: {country}",
            "",
            "System Summary:",
            f"\t- HWID: {hwid}",
            "\t- OS: Windows 10 Pro",
            "\t- UserName: User",
            "\t- Computer Name: DESKTOP-TEST01",
            f"\t- Local Time: {stamp}",
            f"\t- UTC: {_offset_text(offset, 'hours')}",
            "\t- Running Path: C:\\Windows\\SysWOW64\\explorer.exe",
        ]
    if family == "lumma":
        head = ["Lumma logs — свежие каждый день", ""] if banner else []
        return [
            *head,
            "- LummaC2 Build: Oct 21 2024",
            "- LID: example",
            "- Configuration: default",
            "- Path: C:\\Users\\User\\AppData\\Local\\Temp\\x.exe",
            "- OS Version: Windows 11 Pro (10.0.22631) x64",
            f"- Local Date: {local.strftime('%d.%m.%Y %H:%M:%S')}",
            "- Install Date: 01.01.2023 10:00:00",
            "- Computer: DESKTOP-TEST01",
            "- User: User",
            f"- HWID: {hwid}",
            "- IP Address: 198.51.100.23",
            f"- Time: {utc.strftime('%d.%m.%Y %H:%M:%S')} (sig:0a1b2c3d.4e5f6a7b)",
            f"- Country: {country}",
            "- Anti Virus:",
            "\t- Windows Defender",
        ]
    if family == "risepro":
        return [
            "Build: default",
            "Version: 2.0",
            f"Date: {utc.strftime('%a %b %d')} {utc.hour}:{utc:%M:%S %Y}",
            "MachineID: 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "GUID: {7a6b5c4d-3e2f-1a0b-9c8d-7e6f5a4b3c2d}",
            f"HWID: {hwid}",
            "Path: C:\\Users\\User\\AppData\\Local\\Temp\\x.exe",
            "Work Dir: C:\\Users\\User\\AppData\\Local\\Temp",
            "IP: 198.51.100.23",
            f"Location: {country}, Grenoble",
            "ZIP (Autofills): -",
            "Windows: Windows 10 Pro [x64]",
            "Computer Name: DESKTOP-TEST01 [WORKGROUP]",
            "User Name: User",
            f"Local Time: {utc.day}/{utc.month}/{utc.year} {utc.hour}:{utc:%M:%S}",
        ]
    if family == "rhadamanthys":
        return [
            f"Install Date: {utc.strftime('%d %b %y %H:%M')} UTC",
            "Traffic Name: example",
            f"HWID: {hwid}",
            "IP: 198.51.100.23",
            f"Country: {country}",
            "Computer Name: DESKTOP-TEST01",
            "User Name: User",
            "MachineID: 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "WallPaper Hash: 0123456789abcdef",
        ]
    if family == "meduza":
        return [
            f"Log Date: {utc.strftime('%d-%m-%Y, %H:%M:%S')}",
            f"Country Code: {country}",
            "Build Name: example",
            f"HWID: {hwid}",
            "Computer Name: DESKTOP-TEST01",
        ]
    if family == "raccoon":
        return [
            "System Information:",
            "- IP: 198.51.100.23",
            "- Location: 45.19, 5.72 | Grenoble, Auvergne-Rhone-Alpes, France (38000)",
            "- ComputerName: DESKTOP-TEST01",
            "- Username: User",
            "- Windows version: NT 10.0",
            f"- Bot_ID: {hwid}",
        ]
    raise ValueError(f"unknown family {family!r}")


def cookie_file(cookies: Sequence[tuple[str, str, str]], *, expires: int = 1893456000) -> list[str]:
    """A Netscape cookie file; cookies are (domain, name, value), the domain written as given
    (prefix it with `#HttpOnly_` for an HttpOnly cookie)."""
    lines = ["# Netscape HTTP Cookie File", "# generated for tests", ""]
    for domain, name, value in cookies:
        sub = "TRUE" if domain.removeprefix("#HttpOnly_").startswith(".") else "FALSE"
        lines.append("\t".join((domain, sub, "/", "TRUE", str(expires), name, value)))
    return lines


def cookie_path(family: str, hwid: str = "") -> str:
    """Where the family puts its cookie file inside the victim folder."""
    if family in ("redline", "meta"):
        return "Cookies/Google_[Chrome]_Default_Network.txt"
    if family == "vidar":
        return "Cookies/Google Chrome_Default.txt"
    if family == "stealc":
        return f"cookies/cookie_{uuid.UUID(bytes=hashlib.sha256(hwid.encode()).digest()[:16])}.txt"
    if family == "lumma":
        return "Cookies/Chrome_k3x9q.txt"
    if family == "raccoon":
        return "cookies/Google Chrome.txt"
    return "Cookies/Chrome_Default.txt"


def encode(lines: Sequence[str], *, encoding: str = "utf-8", newline: str = "\n") -> bytes:
    """Join lines with `newline` ("mixed" alternates LF and CRLF) and encode them.

    utf-16-le/-be get their BOM; utf-8-sig gets the UTF-8 BOM.
    """
    if newline == "mixed":
        text = "".join(line + ("\r\n" if i % 2 else "\n") for i, line in enumerate(lines))
    else:
        text = "".join(line + newline for line in lines)
    if encoding == "utf-16-le":
        return b"\xff\xfe" + text.encode("utf-16-le")
    if encoding == "utf-16-be":
        return b"\xfe\xff" + text.encode("utf-16-be")
    return text.encode(encoding)


def victim_folder(family: str, *, hwid: str, infected_at: datetime, country: str = "FR") -> str:
    """A victim folder name in the family's style (RedLine's carries the date and offset)."""
    moment = infected_at.astimezone(UTC)
    if family == "redline":
        stamp = moment.strftime("%Y-%m-%dT%H_%M_%S.%f") + "0+00_00"
        return f"{country}[{hwid}] [{stamp}]]"
    if family == "meta":
        return f"{hwid}_{moment:%Y_%m_%dT%H_%M_%S_%f}]"
    if family in ("vidar", "stealc"):
        return f"{hwid[:12]}_{moment:%Y%m%d_%H%M%S}"
    if family == "lumma":
        return f"{country}_{hwid[:16]}"
    return f"{country}{hwid[:10]}"


def victim_files(
    family: str,
    *,
    creds: Sequence[tuple[str, str, str]],
    infected_at: datetime,
    cookies: Sequence[tuple[str, str, str]] = (),
    encoding: str = "utf-8",
    newline: str = "\n",
    hwid: str = "63B68E8B4439C38B4A31EED5198473DF",
    country: str = "FR",
    variant: str | None = None,
    label_case: str = "as_is",
    banner: bool = True,
    utc_offset_hours: int = 0,
    noise: bool = True,
) -> dict[str, bytes]:
    """One victim folder's files (names relative to the folder) → content bytes.

    Holds the family's password file with `creds`, its system-info file with `infected_at`, a
    cookie file when `cookies` are given and, with `noise`, files a scanner must skip
    (Brute.txt, History, Autofill, a screenshot).
    """
    pw_lines, _ = password_file(
        family, creds, variant=variant, label_case=label_case, banner=banner
    )
    info = sysinfo_file(
        family,
        infected_at=infected_at,
        hwid=hwid,
        country=country,
        utc_offset_hours=utc_offset_hours,
        banner=banner,
    )
    files = {
        PASSWORD_FILE[family]: encode(pw_lines, encoding=encoding, newline=newline),
        SYSINFO_FILE[family]: encode(info, encoding=encoding, newline=newline),
    }
    if cookies:
        files[cookie_path(family, hwid)] = encode(
            cookie_file(cookies), encoding=encoding, newline=newline
        )
    if noise:
        decoy = [f"URL: {url}\nUsername: {login}\nPassword: x" for url, login, _ in creds[:1]]
        files["Brute.txt"] = encode(["123456", "qwerty", *decoy], newline=newline)
        files["History/Google Chrome_Default.txt"] = encode(
            [f"{url}\tVisited" for url, _, _ in creds], newline=newline
        )
        files["Autofill/Google Chrome_Default.txt"] = encode(
            ["Name: email", "Value: someone@example.net"], newline=newline
        )
        files["InstalledSoftware.txt"] = encode(["1) Example App 1.0"], newline=newline)
        files["screenshot.jpg"] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256))
    return files


def with_prefix(prefix: str, files: Mapping[str, bytes]) -> dict[str, bytes]:
    """The same files under `prefix/` (a victim folder, or `wrapper/victim`)."""
    base = prefix.strip("/")
    return {f"{base}/{name}" if base else name: data for name, data in files.items()}
