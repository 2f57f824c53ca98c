"""Generated dump shapes read by content: label grammars, JSON exports, hash lists, cookie files."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from tests.gen.stealer import cookie_file

LabelStyle = Literal[
    "colon", "equals", "pipe_column", "indented", "url_last", "one_line_pipe", "one_line_space"
]
LABEL_STYLES: tuple[LabelStyle, ...] = (
    "colon",
    "equals",
    "pipe_column",
    "indented",
    "url_last",
    "one_line_pipe",
    "one_line_space",
)
URL_LABELS = ("URL", "Site", "Location", "website", "Host")


@dataclass(frozen=True, slots=True, kw_only=True)
class Login:
    url: str
    login: str
    password: str


def logins(n: int, *, domain: str = "shape.example") -> list[Login]:
    return [
        Login(url=f"https://{domain}/l{i}", login=f"u{i}@{domain}", password=f"Pw {i}:x{i}")
        for i in range(n)
    ]


def labelled_file(items: Sequence[Login], style: LabelStyle, *, url_label: str = "URL") -> str:
    """A stealer password file in one label grammar, blocks split by blank lines or banners."""
    out = ["*** Generated banner: not a record ***", ""]
    for it in items:
        if style == "colon":
            out += [f"{url_label}: {it.url}", f"Username: {it.login}", f"Password: {it.password}"]
        elif style == "equals":
            out += [f"{url_label} = {it.url}", f"Login = {it.login}", f"Pass = {it.password}"]
        elif style == "pipe_column":
            out += [f"URL:      | {it.url}", f"Login:    | {it.login}"]
            out += [f"Password: | {it.password}", "Browser:  | Chrome", "――――――――――――――――"]
        elif style == "indented":
            out += [f"{url_label}: {it.url}", f"    Username: {it.login}"]
            out += [f"    Password: {it.password}"]
        elif style == "url_last":
            out += [f"username: {it.login}", f"password: {it.password}", f"website: {it.url}"]
        elif style == "one_line_pipe":
            out.append(f"URL: {it.url} | USER: {it.login} | PASS: {it.password}")
            continue
        else:
            out.append(f"URL: {it.url} USER: {it.login} PASS: {it.password}")
            continue
        out.append("")
    return "\n".join(out) + "\n"


def json_export(items: Sequence[Login]) -> str:
    """A pretty-printed JSON array, keys spelled as browsers and stealers do."""
    rows = [
        {"url": it.url, "login": it.login, "password": it.password}
        if i % 2 == 0
        else {"origin_url": it.url, "username": it.login, "password": it.password}
        for i, it in enumerate(items)
    ]
    return json.dumps(rows, indent=2)


def firestore_jsonl(items: Sequence[Login]) -> str:
    """Firestore REST documents: every value wrapped as `{"stringValue": ...}`."""
    lines = []
    for i, it in enumerate(items):
        fields = {
            "email": {"stringValue": it.login},
            "password": {"stringValue": it.password},
            "url": {"stringValue": it.url},
        }
        lines.append(json.dumps({"name": f"projects/p/documents/users/u{i}", "fields": fields}))
    return "\n".join(lines) + "\n"


ManagerExport = Literal["bitwarden", "keepass", "chrome", "firefox", "lastpass", "1password"]
MANAGERS: tuple[ManagerExport, ...] = (
    "bitwarden",
    "keepass",
    "chrome",
    "firefox",
    "lastpass",
    "1password",
)


def manager_csv(items: Sequence[Login], manager: ManagerExport) -> str:
    """A password-manager or browser CSV export with that product's header."""
    if manager == "bitwarden":
        head = "folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp"
        rows = [
            f"Work,,login,Site {i},note,,0,{it.url},{it.login},{it.password},"
            for i, it in enumerate(items)
        ]
    elif manager == "keepass":
        head = '"Account","Login Name","Password","Web Site","Comments"'
        rows = [
            f'"Entry {i}","{it.login}","{it.password}","{it.url}",""' for i, it in enumerate(items)
        ]
    elif manager == "chrome":
        head = "name,url,username,password,note"
        rows = [f"s{i},{it.url},{it.login},{it.password}," for i, it in enumerate(items)]
    elif manager == "firefox":
        head = '"url","username","password","httpRealm","formActionOrigin","guid"'
        rows = [f'"{it.url}","{it.login}","{it.password}",,"",""' for it in items]
    elif manager == "lastpass":
        head = "url,username,password,totp,extra,name,grouping,fav"
        rows = [f"{it.url},{it.login},{it.password},,,n{i},,0" for i, it in enumerate(items)]
    else:
        head = "Title,Url,Username,Password,OTPAuth,Favorite,Archived,Tags,Notes"
        rows = [
            f"T{i},{it.url},{it.login},{it.password},,false,false,," for i, it in enumerate(items)
        ]
    return "\n".join([head, *rows]) + "\n"


# (algorithm, a value of that shape)
HASHES: tuple[tuple[str, str], ...] = (
    ("md5", "5f4dcc3b5aa765d61d8327deb882cf99"),
    ("sha1", "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8"),
    ("sha256", "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"),
    ("bcrypt", "$2b$10$" + "N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"),
    ("argon2", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"),
    ("sha512crypt", "$6$saltsalt$" + "a" * 86),
    ("md5crypt", "$1$saltsalt$" + "b" * 22),
    ("phpass", "$P$B" + "c" * 30),
)


def login_hash_lines(*, email: bool) -> str:
    """`login:hash` lines, one per known algorithm; logins e-mails or plain user names."""
    return "".join(
        f"{'h' + str(i) + '@hash.example' if email else 'user' + str(i)}:{value}\n"
        for i, (_, value) in enumerate(HASHES)
    )


def netscape_cookies(domain: str, names: Sequence[str]) -> str:
    return "\n".join(cookie_file([(f".{domain}", n, f"v-{n}-0123456789") for n in names])) + "\n"


def prose_lines(n: int, *, seed: int = 7) -> str:
    """Text that is no credential shape at all: notes, autofill dumps, stack traces."""
    words = ("victim", "browser", "profile", "history", "autofill", "form", "value", "saved")
    lines = []
    for i in range(n):
        a, b = words[(seed + i) % len(words)], words[(seed * 3 + i) % len(words)]
        lines.append(f"{a.title()} {b} entry number {i} was opened at noon")
    return "\n".join(lines) + "\n"


def ulp_lines(items: Sequence[Login]) -> str:
    """`url:login:password` lines."""
    return "".join(f"{it.url}:{it.login}:{it.password}\n" for it in items)
