"""Archive layout: member roles, and victim grouping whatever the member order or nesting."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from feeds.stealer_layout import (
    FileRole,
    classify,
    group_victims,
    is_litter,
    is_noise,
    victim_root,
)
from tests.gen.stealer import FAMILIES, victim_files, victim_folder, with_prefix

P, S, C, X = FileRole.PASSWORDS, FileRole.SYSINFO, FileRole.COOKIES, FileRole.IGNORE


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("V/Passwords.txt", P),
        ("V/passwords.txt", P),
        ("V/All Passwords.txt", P),
        ("V/All_Passwords.txt", P),
        ("V/AllPasswords_list.txt", P),
        ("V/_AllPasswords_list.txt", P),
        ("V/Password List.txt", P),
        ("V/Passwords[Chrome]_Default.txt", P),
        ("V/PASSWORDS.TXT", P),
        ("V/Browser/Chrome/Default/Passwords.txt", P),
        ("Passwords.txt", P),
        ("V\\Passwords.txt", P),
        ("V/PasswordCracker.txt", X),
        ("V/Password_Cracker.txt", X),
        ("V/Brute.txt", X),
        ("V/Passwords.json", X),
        ("V/UserInformation.txt", S),
        ("V/information.txt", S),
        ("V/System.txt", S),
        ("V/system_info.txt", S),
        ("V/System Info.txt", S),
        ("V/SystemInfo.txt", S),
        ("V/UserInfo.txt", S),
        ("V/_Information.txt", S),
        ("V/system_information.txt", S),
        ("V/#system.txt", X),
        ("V/Cookies/Google_[Chrome]_Default_Network.txt", C),
        ("V/cookies/Google Chrome_Default.txt", C),
        ("V/Cookies/Chrome_k3x9q.txt", C),
        ("V/cookies/cookie_0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0.txt", C),
        ("V/cookie_0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0.txt", C),
        ("V/Browser/Chrome/Default/Cookies/Chrome.txt", C),
        ("V/Cookies/readme.jpg", X),
        ("V/History/Google Chrome_Default.txt", X),
        ("V/Autofill/Google Chrome_Default.txt", X),
        ("V/Autofills/Chrome.txt", X),
        ("V/CreditCards/Chrome.txt", X),
        ("V/CC/Chrome.txt", X),
        ("V/Wallets/Exodus/passwords.txt", X),
        ("V/FileGrabber/Desktop/passwords.txt", X),
        ("V/Grabber/Documents/Passwords.txt", X),
        ("V/Desktop/passwords.txt", X),
        ("V/Documents/passwords.txt", X),
        ("V/USB/passwords.txt", X),
        ("V/Telegram/key_datas", X),
        ("V/screenshot.jpg", X),
        ("V/Screen.png", X),
        ("__MACOSX/V/._Passwords.txt", X),
        ("__MACOSX/V/Passwords.txt", X),
        ("V/.DS_Store", X),
        ("V/Thumbs.db", X),
        ("V/InstalledSoftware.txt", X),
        ("V/ProcessList.txt", X),
        ("V/", X),
        ("", X),
    ],
)
def test_classify(name: str, role: FileRole) -> None:
    assert classify(name) is role


def test_victim_root_without_context() -> None:
    assert victim_root("V/Passwords.txt") == "V"
    assert victim_root("W/V/Cookies/a.txt") == "W/V"
    assert victim_root("V/Browser/Chrome/Default/Passwords.txt") == "V"
    assert victim_root("Passwords.txt") == ""
    assert victim_root("Cookies/a.txt") == ""


MOMENT = datetime(2024, 7, 4, 17, 43, 7, tzinfo=UTC)


def archive() -> tuple[dict[str, bytes], dict[str, list[str]]]:
    """Every family as a victim: half at the top, half under a wrapper folder."""
    members: dict[str, bytes] = {}
    expected: dict[str, list[str]] = {}
    creds = [("https://a.example.org/", "u@example.org", "pw")]
    for i, family in enumerate(FAMILIES):
        hwid = f"{i:02d}B68E8B4439C38B4A31EED5198473DF"
        folder = victim_folder(family, hwid=hwid, infected_at=MOMENT)
        root = folder if i % 2 else f"GODELESS CLOUD/{folder}"
        files = victim_files(
            family, creds=creds, infected_at=MOMENT, hwid=hwid, cookies=[(".a.example", "s", "v")]
        )
        placed = with_prefix(root, files)
        members.update(placed)
        expected[root] = sorted(placed)
    members["GODELESS CLOUD/__MACOSX/._x"] = b""
    expected["GODELESS CLOUD/__MACOSX"] = ["GODELESS CLOUD/__MACOSX/._x"]
    return members, expected


def test_group_victims_independent_of_order() -> None:
    members, expected = archive()
    assert len(expected) == len(FAMILIES) + 1
    names = list(members)
    rng = random.Random(1234)
    for _ in range(20):
        rng.shuffle(names)
        assert group_victims(names) == expected


def test_nested_lumma_browser_folders_belong_to_the_victim() -> None:
    names = [
        "W/LUMMA_1/Browser/Chrome/Default/Passwords.txt",
        "W/LUMMA_1/Browser/Edge/Profile 1/Passwords.txt",
        "W/LUMMA_1/Browser/Chrome/Default/History.txt",
        "W/LUMMA_1/Cookies/Chrome_k3x9q.txt",
        "W/LUMMA_1/System.txt",
        "W/LUMMA_1/Messengers/Telegram/a.txt",
        "W/LUMMA_2/Browser/Chrome/Default/Passwords.txt",
    ]
    rng = random.Random(7)
    for _ in range(5):
        rng.shuffle(names)
        groups = group_victims(names)
        assert sorted(groups) == ["W/LUMMA_1", "W/LUMMA_2"]
        assert len(groups["W/LUMMA_1"]) == 6


def test_flat_single_victim_and_aggregate_at_top() -> None:
    names = ["Passwords.txt", "UserInformation.txt", "Cookies/a.txt", "History/b.txt"]
    assert group_victims(names) == {"": sorted(names)}
    # An aggregate password file at the top does not swallow the victims below it.
    names = ["All Passwords.txt", "V1/Passwords.txt", "V1/History/x.txt", "V2/System.txt"]
    assert group_victims(names) == {
        "": ["All Passwords.txt"],
        "V1": ["V1/History/x.txt", "V1/Passwords.txt"],
        "V2": ["V2/System.txt"],
    }


def test_victim_without_stealer_files_falls_back_to_its_folder() -> None:
    names = ["W/V1/Passwords.txt", "W/V2/History/Chrome.txt", "W/V2/Wallets/x/y.dat"]
    assert group_victims(names) == {
        "W/V1": ["W/V1/Passwords.txt"],
        "W/V2": ["W/V2/History/Chrome.txt", "W/V2/Wallets/x/y.dat"],
    }


def test_browser_folders_without_a_browser_parent() -> None:
    names = [
        "V/Chrome/Default/Passwords.txt",
        "V/Edge/Profile 1/Passwords.txt",
        "V/System.txt",
        "V/Firefox/abc.default/Cookies.txt",
    ]
    assert group_victims(names) == {"V": sorted(names)}
    # Without a system-info file, an unknown nested folder with its own password file stays apart.
    names = ["V/All Passwords.txt", "V/Profiles/Default/Passwords.txt", "V/Opera/Passwords.txt"]
    assert group_victims(names) == {
        "V": ["V/All Passwords.txt", "V/Opera/Passwords.txt"],
        "V/Profiles/Default": ["V/Profiles/Default/Passwords.txt"],
    }
    # A system-info file decides it.
    names = [*names, "V/information.txt"]
    assert group_victims(names) == {"V": sorted(names)}


@pytest.mark.parametrize(
    ("name", "noise", "litter"),
    [
        ("V/Passwords.txt", False, False),
        ("ulp/combo.txt", False, False),
        ("V/Brute.txt", True, False),
        ("V/InstalledSoftware.txt", True, False),
        ("V/ProcessList.txt", True, False),
        ("V/IP.txt", True, False),
        ("V/desktop.ini", True, False),
        ("V/History/Chrome.txt", True, False),
        ("V/Wallets/Exodus/seed.txt", True, False),
        ("V/Discord/Tokens.txt", True, False),
        ("V/Steam/ssfn", True, False),
        ("V/FileGrabber/Desktop/notes.txt", True, False),
        ("V/.DS_Store", True, True),
        ("V/Thumbs.db", True, True),
        ("__MACOSX/V/._Passwords.txt", True, True),
        ("V/__macosx/x.txt", True, True),
        ("V/Passwords.txt/History", False, False),  # a noise folder name as the file itself
        ("V//Passwords.txt", False, False),
        ("", True, True),
        ("/", True, True),
    ],
)
def test_noise_and_litter(name: str, noise: bool, litter: bool) -> None:
    assert is_noise(name) is noise
    assert is_litter(name) is litter
