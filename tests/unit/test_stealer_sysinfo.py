"""System-info files: each family's date format, offsets, machine id, country; folder dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.stealer_sysinfo import date_from_folder, parse_sysinfo
from monitor.victims import machine_id_hash
from tests.gen.stealer import (
    FAMILIES,
    OFFSET_FAMILIES,
    SYSINFO_FILE,
    expected_infected_at,
    sysinfo_file,
    victim_folder,
)
from tests.gen.sysinfo_families import SHARED_NAMES, atomic_sysinfo, azorult_sysinfo

HWID = "63B68E8B4439C38B4A31EED5198473DF"
# Day 4 and month 7 tell D/M from M/D; 17h tells 12h from 24h; single digits test padding.
MOMENTS = [
    datetime(2024, 7, 4, 17, 43, 7, tzinfo=UTC),
    datetime(2025, 12, 31, 0, 5, 9, tzinfo=UTC),
    datetime(2023, 1, 9, 12, 0, 0, tzinfo=UTC),
]


def numbered(lines: list[str]) -> list[tuple[int, str]]:
    return list(enumerate(lines, 1))


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("offset", [0, 2, -5])
def test_family_date_id_country(family: str, moment: datetime, offset: int) -> None:
    lines = sysinfo_file(family, infected_at=moment, hwid=HWID, utc_offset_hours=offset)
    info = parse_sysinfo(f"victim/{SYSINFO_FILE[family]}", numbered(lines))
    assert info.family == family
    assert info.infected_at == expected_infected_at(family, moment)
    assert info.machine_id == HWID
    assert info.country == "FR"  # Raccoon writes the name: normalised to the ISO code
    if info.infected_at is not None:
        assert info.infected_at.utcoffset() == timedelta(0)


def test_offsets_move_local_times_to_utc() -> None:
    assert {"redline", "vidar", "stealc"} <= OFFSET_FAMILIES
    lines = [
        "Country: AE",
        "HWID: 122C51E4AF1735E9123E2A94C1AC26A0D",
        "TimeZone: (UTC+04:00) Abu Dhabi, Muscat",
        "Log date: 7/4/2024 5:43:07 PM",
    ]
    info = parse_sysinfo("UserInformation.txt", numbered(lines))
    assert info.infected_at == datetime(2024, 7, 4, 13, 43, 7, tzinfo=UTC)
    assert (info.family, info.country) == ("redline", "AE")


@pytest.mark.parametrize(
    ("name", "lines", "expected"),
    [
        ("UserInformation.txt", ["Log date: 7/4/2024 5:43:07 PM"], datetime(2024, 7, 4, 17, 43, 7)),
        (
            "UserInformation.txt",
            ["Log date: 08/11/2024 12:37:39"],
            datetime(2024, 8, 11, 12, 37, 39),
        ),
        ("information.txt", ["Date: 19/07/2025 17:14:05"], datetime(2025, 7, 19, 17, 14, 5)),
        (
            "system_info.txt",
            ["\t- Local Time: 2024/6/22 15:49:7"],
            datetime(2024, 6, 22, 15, 49, 7),
        ),
        ("System.txt", ["- Local Date: 28.06.2025 12:28:40"], datetime(2025, 6, 28, 12, 28, 40)),
        (
            "System.txt",
            ["- Local Date: 28.06.2025 12:28:40", "- Time: 28.06.2025 11:28:43 (sig:ab12.cd34)"],
            datetime(2025, 6, 28, 11, 28, 43),
        ),
        (
            "information.txt",
            ["Build: default", "Date: Sat Jul 06 3:43:57 2024"],
            datetime(2024, 7, 6, 3, 43, 57),
        ),
        (
            "UserInformation.txt",
            ["Install Date: 09 Dec 23 00:33 UTC"],
            datetime(2023, 12, 9, 0, 33),
        ),
        ("UserInfo.txt", ["Log Date: 03-12-2024, 23:45:57"], datetime(2024, 12, 3, 23, 45, 57)),
        ("System Info.txt", ["- IP: 198.51.100.1", "- Last seen: 1"], None),
    ],
)
def test_reference_date_lines(name: str, lines: list[str], expected: datetime | None) -> None:
    info = parse_sysinfo(name, numbered(lines))
    assert info.infected_at == (expected.replace(tzinfo=UTC) if expected else None)


def test_families_told_apart() -> None:
    cases = {
        ("UserInformation.txt", "Log date: 7/4/2024 5:43:07 PM"): "redline",
        ("UserInformation.txt", "Install Date: 09 Dec 23 00:33 UTC"): "rhadamanthys",
        ("information.txt", "Date: 19/07/2025 17:14:05"): "vidar",
        ("information.txt", "Date: Sat Jul 06 3:43:57 2024"): "risepro",
        ("System.txt", "- OS Version: x"): "lumma",
        ("whatever.txt", "- LummaC2 Build: Oct 21 2024"): "lumma",
        ("system_info.txt", "x"): "stealc",
        ("SystemInfo.txt", "x"): "raccoon",
        ("UserInfo.txt", "x"): "meduza",
        ("notes.txt", "x"): None,
    }
    for (name, line), family in cases.items():
        assert parse_sysinfo(name, numbered([line])).family == family, (name, line)
    meta = ["*  ( M | E | T | A )  *", "Log date: 08/11/2024 12:37:39"]
    assert parse_sysinfo("UserInformation.txt", numbered(meta)).family == "meta"


def test_invalid_or_implausible_dates_are_none() -> None:
    for line in (
        "Log date: 13/45/2024 5:43:07 PM",
        "Log date: 7/4/1970 5:43:07 PM",
        "Log date: [redacted]",
        "Log date: ",
    ):
        assert parse_sysinfo("UserInformation.txt", numbered([line])).infected_at is None


def test_machine_id_preference_and_placeholders() -> None:
    lines = ["MachineID: mid-1", "HWID: UNKNOWN", "GUID: {g}"]
    assert parse_sysinfo("information.txt", numbered(lines)).machine_id == "mid-1"
    lines = ["MachineID: mid-1", "HWID: HW-2"]
    assert parse_sysinfo("information.txt", numbered(lines)).machine_id == "HW-2"
    assert parse_sysinfo("information.txt", numbered(["Ip: 1.2.3.4"])).machine_id is None


def test_country_forms() -> None:
    def country(name: str, *lines: str) -> str | None:
        return parse_sysinfo(name, numbered(list(lines))).country

    assert country("UserInformation.txt", "Country: ae", "Location: Dubai, Dubayy") == "AE"
    assert country("UserInformation.txt", "Location: Dubai, Dubayy") is None
    assert country("information.txt", "Build: default", "Location: EG, Cairo") == "EG"
    assert country("UserInfo.txt", "Country Code: PL") == "PL"
    assert country("information.txt", "Country: France") == "FR"
    assert country("information.txt", "Country: Russia (RU)") == "RU"
    assert country("information.txt", "Country: Atlantis") == "Atlantis"
    raccoon = "- Location: 52.27, 21.08 | Warsaw, Mazovia, Poland (03-890)"
    assert country("System Info.txt", raccoon) == "PL"


def test_machine_id_hash_is_keyed_and_normalised() -> None:
    a = machine_id_hash("63b68e8b4439c38b ", b"k1")
    assert a == machine_id_hash("63B68E8B4439C38B", b"k1")
    assert a != machine_id_hash("63B68E8B4439C38B", b"k2")
    assert len(a) == 64
    assert int(a, 16) >= 0


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        (
            "HU[63B68E8B4439C38B4A31EED5198473DF] [2023-11-01T11_57_58.8718608-07_00]]",
            datetime(2023, 11, 1, 18, 57, 58, 871860, tzinfo=UTC),
        ),
        (
            "GODELESS CLOUD/AEX22N56YL9HOLK9FJDKZIVOIDC5DFUT2_2024_08_10T13_68_80_585685]",
            None,
        ),
        (
            "AEX22N56_2024_08_10T13_08_50_585685]",
            datetime(2024, 8, 10, 13, 8, 50, 585685, tzinfo=UTC),
        ),
        ("DESKTOP-X_20240810_130850", datetime(2024, 8, 10, 13, 8, 50, tzinfo=UTC)),
        ("US[ABC] [2023-02-30T11_57_58.1-07_00]]", None),
        ("US[ABC] [2023-11-01T11_57_58.1+25_00]]", None),
        ("FR_0123456789ABCDEF", None),
        ("", None),
    ],
)
def test_date_from_folder(folder: str, expected: datetime | None) -> None:
    assert date_from_folder(folder) == expected


@pytest.mark.parametrize("family", ["redline", "meta", "vidar", "stealc"])
def test_generated_folder_names_carry_the_date(family: str) -> None:
    moment = datetime(2024, 7, 4, 17, 43, 7, tzinfo=UTC)
    assert date_from_folder(victim_folder(family, hwid=HWID, infected_at=moment)) == moment


def test_folder_date_with_offset_is_aware() -> None:
    got = date_from_folder("X[1] [2024-01-02T03_04_05.0000000+02_00]]")
    assert got == datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert got is not None and got.tzinfo == UTC


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30), st.lists(st.text(max_size=80), max_size=30))
def test_never_raises(name: str, texts: list[str]) -> None:
    info = parse_sysinfo(name, numbered(texts))
    assert info.infected_at is None or info.infected_at.tzinfo is not None
    date_from_folder(name)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "Log date: ",
                "Date: ",
                "- Time: ",
                "TimeZone: ",
                "- UTC: ",
                "Install Date: ",
                "HWID: ",
            ]
        ).flatmap(
            lambda p: st.from_regex(r"[0-9/.:, APMUTC+\-()a-z]{0,25}", fullmatch=True).map(
                lambda s: p + s
            )
        ),
        max_size=10,
    ),
    st.sampled_from([*sorted(set(SYSINFO_FILE.values())), "x.txt"]),
)
def test_never_raises_on_date_like_junk(texts: list[str], name: str) -> None:
    info = parse_sysinfo(name, numbered(texts))
    if info.infected_at is not None:
        assert (
            datetime(2000, 1, 1, tzinfo=UTC) <= info.infected_at < datetime(2100, 1, 1, tzinfo=UTC)
        )


@pytest.mark.parametrize("name", SHARED_NAMES)
@pytest.mark.parametrize("family", FAMILIES)
def test_family_from_content_under_any_name(family: str, name: str) -> None:
    """A full system-info file names its family whatever the file is called."""
    lines = sysinfo_file(family, infected_at=MOMENTS[0], hwid=HWID)
    assert parse_sysinfo(f"victim/{name}", numbered(lines)).family == family


@pytest.mark.parametrize("name", SHARED_NAMES)
def test_macos_atomic_is_not_redline(name: str) -> None:
    info = parse_sysinfo(f"victim/{name}", numbered(atomic_sysinfo(country="JP")))
    assert (info.family, info.country) == ("atomic", "JP")
    unbranded = numbered(atomic_sysinfo(banner=False))
    assert parse_sysinfo("victim/UserInformation.txt", unbranded).family == "atomic"
    # Without a banner the name tells the two macOS families apart.
    assert parse_sysinfo("victim/system_information.txt", unbranded).family == "banshee"


@pytest.mark.parametrize("name", SHARED_NAMES)
def test_azorult_system_txt_is_not_lumma(name: str) -> None:
    info = parse_sysinfo(f"victim/{name}", numbered(azorult_sysinfo(country="DE")))
    assert (info.family, info.country) == ("azorult", "DE")


def test_name_breaks_ties_only() -> None:
    """A bare `Log date:` line is RedLine in `UserInformation.txt`, Meduza in `UserInfo.txt`;
    a product banner beats the name."""
    line = ["Log date: 7/4/2024 5:43:07 PM"]
    assert parse_sysinfo("UserInformation.txt", numbered(line)).family == "redline"
    assert parse_sysinfo("UserInfo.txt", numbered(line)).family == "meduza"
    vidar = ["-- VIDAR STEALER --", "Date: 19/07/2025 17:14:05"]
    assert parse_sysinfo("System.txt", numbered(vidar)).family == "vidar"


def test_starstealer_banner_gives_its_family_and_its_us_style_date() -> None:
    lines = [
        "StarStealer by F A T H E R",
        "―" * 40,
        "Time: 11/3/2024 9:41:07 PM",
        "―" * 40,
        "Hwid: 0F1E2D3C4B5A",
        "UserName: someone",
        "Country: France",
        "Country Code: FR",
    ]
    info = parse_sysinfo("Information.txt", list(enumerate(lines, 1)))
    assert info.family == "starstealer"  # not the name's guess (vidar's file name)
    assert info.infected_at == datetime(2024, 11, 3, 21, 41, 7, tzinfo=UTC)
    assert info.country == "FR"
