"""System-info files of the families that share a file name with another family.

macOS Atomic (AMOS) and Banshee write `UserInformation.txt` / `system_information.txt` with a
macOS hardware report; AZORult writes `System.txt`, the name Lumma uses. Values are invented.
"""

from __future__ import annotations

SHARED_NAMES = (
    "UserInformation.txt",
    "System.txt",
    "information.txt",
    "system_info.txt",
    "System Info.txt",
    "UserInfo.txt",
    "notes.txt",
)


def atomic_sysinfo(*, country: str = "JP", banner: bool = True) -> list[str]:
    """An Atomic (AMOS) `UserInformation.txt`: banner, wallet lines, macOS hardware report."""
    head = ["ATOMIC MAC STEALER V2 ", "MetaMask Info: ", "Seeds:\t", ""] if banner else []
    return [
        *head,
        "Userinfo: ",
        f"Country: {country} ",
        "IP: 198.51.100.44 ",
        "City: Somewhere ",
        "ProductName:\t\tmacOS ",
        "ProductVersion:\t\t14.2 ",
        "BuildVersion:\t\t23C64 ",
        "",
        "Hardware: ",
        "\tHardware Overview: ",
        "\t  Model Name: MacBook Air ",
        "\t  Model Identifier: Mac14,2 ",
        "\t  Chip: Apple M2 ",
        "\t  Hardware UUID: 00000000-1111-2222-3333-444455556666 ",
    ]


def azorult_sysinfo(*, country: str = "DE") -> list[str]:
    """An AZORult `System.txt`: `EXE_PATH`, `Computer(Username)`, no LummaC2 build line."""
    return [
        "ID: 0A1B2C3D4E5F60718293A4B5C6D7E8F9",
        "EXE_PATH: C:\\Users\\User\\AppData\\Local\\Temp\\x.exe",
        "Windows: Windows 10 Pro x64",
        "Computer(Username) : DESKTOP-TEST01(User)",
        "Screen: 1920x1080",
        "Layouts: English, German",
        f"Country: {country}",
        "[Soft]",
        "Example Soft 1.0",
    ]
