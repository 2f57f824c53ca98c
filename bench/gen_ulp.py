"""Write a seeded synthetic ULP corpus with planted hits and decoys, plus its truth file.

    python -m bench.gen_ulp OUT [--lines 10000000] [--seed 1] [--hit-rate 0.0001]
                                [--decoy-rate 0.00005] [--domains 200000] [--member-zip]

Background lines (no watched name anywhere in them, not even as a substring):
  ~88 % `scheme://[sub.]domain.tld[:port]/path:login:password` over `--domains` synthetic domains,
  3 % `android://SIG==@com.x.app/:login:pw`, 4 % scheme-less `domain.tld[/path]:login:pw`,
  2 % `|`-separated (some padded ` | `), 1.5 % `login:pw:url`, 1.5 % `email:pw` combos.

Planted lines use the watch list below. A hit line counts under every reason that holds for it,
with the project's rules: `host` = the URL's canonical host is a watched domain or under one
(portal lines included), `portal` = the host is the portal host and the path is `/kairos` or
below, `email_domain` = the login's e-mail domain is (under) a watched or partner domain.
Decoys must match nothing, yet each looks like a hit: a watched name (or a homoglyph of one)
sits in the host, userinfo, query, path, password, login or Android package.

`OUT.truth.json` holds the exact numbers: `hit_lines`, `hits_by_kind`, `hits_by_reason`,
`decoy_lines`, `decoys_by_kind`, `decoy_kinds`, and the 1-based line number of every planted line.
The corpus is written in chunks; memory does not grow with `--lines`. `--member-zip` also writes
`OUT.zip` holding the same bytes as one deflated member, streamed.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import random
import string
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO

WATCHED_DOMAINS = ("francetravail.fr", "pole-emploi.fr")
PORTAL = "https://portail-partenaire.francetravail.fr/kairos"
PORTAL_HOST = "portail-partenaire.francetravail.fr"
PARTNER_EMAIL_DOMAINS = ("formation-isere.example",)
# Background pools are filtered against these, so only planted lines can contain them.
_FORBIDDEN = ("francetravail", "pole-emploi", "formation-isere", "kairos")

CHUNK_LINES = 100_000
_OTHER_SHARES = (  # background shapes other than `scheme://host/path:login:pw`
    ("android", 0.03),
    ("schemeless", 0.04),
    ("pipe", 0.02),
    ("url_last", 0.015),
    ("combo", 0.015),
)

_SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ra",
    "to",
    "vi",
    "za",
    "be",
    "do",
    "fu",
    "gi",
    "ha",
    "je",
    "ku",
    "le",
    "mo",
    "nu",
    "pa",
    "ri",
    "sa",
    "te",
    "va",
    "xo",
    "ye",
    "zu",
    "an",
    "el",
    "is",
    "or",
    "ul",
    "tr",
    "st",
    "gr",
    "pl",
    "br",
    "ch",
    "sh",
    "ma",
    "na",
    "sol",
    "ter",
    "vel",
    "kor",
    "dan",
    "mir",
    "lux",
    "pix",
    "net",
    "web",
    "shop",
    "bank",
]
_TLDS = (
    ["com"] * 30
    + ["fr"] * 8
    + ["net"] * 6
    + ["org"] * 5
    + ["de"] * 4
    + ["ru"] * 4
    + ["co.uk", "com.br", "it", "es", "in", "pl", "io", "info", "xyz", "online", "nl", "be"] * 2
    + ["ch", "ca", "jp", "vn", "id", "tr", "ua", "app", "store", "site"]
)
_SUBS = [""] * 45 + ["www."] * 35 + ["m.", "login.", "account.", "auth.", "secure.", "app."] * 2
_SUBS += ["my.", "portal.", "mail.", "id.", "sso.", "shop.", "fr.", "en."]
_SCHEMES = ["https://"] * 85 + ["http://"] * 15
_PORTS = [""] * 97 + [":8080", ":8443", ":443"]
_PATHS = (
    ["/"] * 20
    + ["/login", "/signin", "/auth/login", "/account/login", "/user/login", "/wp-login.php"] * 3
    + ["/login.php", "/index.php", "/admin/", "/connexion", "/sign-in", "/session/new"] * 2
    + ["/auth/realms/main/login-actions/authenticate", "/oauth2/authorize", "/customer/account"]
    + ["/fr/login", "/en/signin", "/members/", "/client/espace", "/v2/identifier", ""]
)
_PROVIDERS = (
    ["gmail.com"] * 30
    + ["hotmail.com", "yahoo.fr", "outlook.fr", "orange.fr", "free.fr"] * 4
    + ["laposte.net", "sfr.fr", "wanadoo.fr", "icloud.com", "mail.ru", "yandex.ru", "gmx.de"] * 2
    + ["hotmail.fr", "live.fr", "aol.com", "protonmail.com", "web.de"]
)
_FIRST = [
    "jean",
    "marie",
    "pierre",
    "sophie",
    "luc",
    "camille",
    "nicolas",
    "julie",
    "thomas",
    "emma",
    "lucas",
    "lea",
    "hugo",
    "chloe",
    "louis",
    "manon",
    "paul",
    "ines",
    "arthur",
    "sarah",
    "jules",
    "anna",
    "adam",
    "lina",
    "nathan",
    "eva",
    "theo",
    "zoe",
    "maxime",
    "alice",
    "olga",
    "ivan",
    "dmitri",
    "ahmed",
    "fatima",
    "carlos",
    "ana",
    "wei",
    "mei",
    "john",
    "mary",
    "james",
    "linda",
]
_LAST = [
    "martin",
    "bernard",
    "dubois",
    "thomas",
    "robert",
    "richard",
    "petit",
    "durand",
    "leroy",
    "moreau",
    "simon",
    "laurent",
    "lefebvre",
    "michel",
    "garcia",
    "david",
    "bertrand",
    "roux",
    "vincent",
    "fournier",
    "morel",
    "girard",
    "andre",
    "mercier",
    "dupont",
    "lambert",
    "bonnet",
    "francois",
    "martinez",
    "ivanov",
    "petrov",
    "smith",
    "jones",
    "brown",
    "silva",
    "santos",
    "wang",
    "li",
    "nguyen",
]
_WORDS = [
    "soleil",
    "azerty",
    "password",
    "motdepasse",
    "bonjour",
    "chocolat",
    "dragon",
    "football",
    "marseille",
    "paris",
    "princesse",
    "loulou",
    "doudou",
    "nicolas",
    "iloveyou",
    "monkey",
    "shadow",
    "master",
    "qwerty",
    "welcome",
    "summer",
]
_B64URL = string.ascii_letters + string.digits + "-_"  # Chrome writes the cert hash URL-safe
_PW_CHARS = string.ascii_letters + string.digits + "!#$%&*+-.=?@^_~"


def _fresh(text: str) -> bool:
    low = text.lower()
    return not any(f in low for f in _FORBIDDEN)


def _domain(rng: random.Random) -> str:
    name = "".join(rng.choices(_SYLLABLES, k=rng.randint(2, 4)))
    r = rng.random()
    if r < 0.25:
        name += str(rng.randint(1, 999))
    elif r < 0.35:
        name += "-" + "".join(rng.choices(_SYLLABLES, k=2))
    return f"{name}.{rng.choice(_TLDS)}"


def _login(rng: random.Random, domains: list[str]) -> str:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    r = rng.random()
    n = str(rng.randint(1, 9999)) if rng.random() < 0.6 else ""
    if r < 0.55:
        return f"{first}.{last}{n}@{rng.choice(_PROVIDERS)}"
    if r < 0.70:
        return f"{first[0]}{last}{n}@{rng.choice(domains)}"
    if r < 0.72:
        return f"{first.capitalize()}.{last.upper()}@{rng.choice(_PROVIDERS)}"
    if r < 0.73:
        return f"élodie.{last}{n}@orange.fr"
    if r < 0.88:
        return f"{first}{last[:3]}{n}"
    return f"{first}_{n or rng.randint(1, 99)}"


def _password(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.45:
        word = rng.choice(_WORDS)
        word = word.capitalize() if rng.random() < 0.5 else word
        return f"{word}{rng.randint(0, 9999)}{rng.choice(['', '!', '.', '*', '#', '$'])}"
    if r < 0.90:
        return "".join(rng.choices(_PW_CHARS, k=rng.randint(8, 16)))
    if r < 0.95:
        return str(rng.randint(100000, 99999999))
    if r < 0.98:  # separators and spaces inside the password
        return f"{rng.choice(_WORDS)}{rng.choice([':', '|', ' ', '::', ';'])}{rng.randint(1, 99)}"
    return f"mötdepässe{rng.randint(1, 99)}€"


def _path(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return rng.choice(_PATHS)
    return "/" + "/".join("".join(rng.choices(_SYLLABLES, k=2)) for _ in range(rng.randint(1, 3)))


def _unique(rng: random.Random, n: int, make: Callable[[random.Random], str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        item = make(rng)
        if item not in seen and _fresh(item):
            seen.add(item)
            out.append(item)
    return out


class Pools:
    """The background vocabulary, built once from the seed."""

    def __init__(self, rng: random.Random, n_domains: int) -> None:
        self.domains = _unique(rng, n_domains, _domain)
        pool = max(1000, min(250_000, n_domains))
        self.logins = _unique(rng, pool, lambda r: _login(r, self.domains))
        self.passwords = [p for p in (_password(rng) for _ in range(pool)) if _fresh(p)]
        self.clean_passwords = [p for p in self.passwords if not any(c in p for c in ":|; \t")]
        self.paths = [p for p in (_path(rng) for _ in range(2000)) if _fresh(p)]
        # Pre-joined pieces keep the per-line work to four picks and one f-string.
        self.heads = [rng.choice(_SCHEMES) + rng.choice(_SUBS) for _ in range(2000)]
        self.tails = [rng.choice(_PORTS) + rng.choice(self.paths) for _ in range(5000)]
        self.creds = [f"{lg}:{rng.choice(self.passwords)}" for lg in self.logins]
        self.packages = [
            f"com.{d.split('.')[0]}.{rng.choice(['app', 'android', 'mobile', 'client'])}"
            for d in self.domains[:20_000]
        ]
        self.sigs = ["".join(rng.choices(_B64URL, k=86)) + "==" for _ in range(5000)]


# --- planted hits -------------------------------------------------------------------------------

Maker = Callable[[random.Random, Pools], str]


def _watched(rng: random.Random) -> str:
    return rng.choice(WATCHED_DOMAINS)


def _wsub(rng: random.Random) -> str:
    return rng.choice(
        ["", "www.", "candidat.", "entreprise.", "authentification-candidat.", "a.b."]
    )


def _l(rng: random.Random, pools: Pools) -> str:
    return rng.choice(pools.logins)


def _p(rng: random.Random, pools: Pools) -> str:
    return rng.choice(pools.clean_passwords)


def _partner_login(rng: random.Random) -> str:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    return rng.choice(
        [
            f"{first}.{last}@formation-isere.example",
            f"{first[0]}{last}@formation-isere.example",
            f"{first.upper()}.{last.upper()}@FORMATION-ISERE.EXAMPLE",
            f"{first}.{last}%40formation-isere.example",
            f"{first}.{last}@mail.formation-isere.example",
        ]
    )


def _site(rng: random.Random, pools: Pools) -> str:
    """A background URL that always has a path, so that what follows it reads unambiguously."""
    path = _path(rng) or "/"
    return f"{rng.choice(_SCHEMES)}{rng.choice(_SUBS)}{rng.choice(pools.domains)}{path}"


def _hit_host(rng: random.Random, pools: Pools) -> str:
    path = rng.choice(["/", "/connexion", "/espace/candidat"])
    password = rng.choice(pools.passwords)  # any password: the URL has a path
    return f"https://{_wsub(rng)}{_watched(rng)}{path}:{_l(rng, pools)}:{password}"


def _hit_upper(rng: random.Random, pools: Pools) -> str:
    scheme, host = rng.choice(["HTTPS://", "Https://", "http://"]), _watched(rng).upper()
    return f"{scheme}WWW.{host}/:{_l(rng, pools)}:{_p(rng, pools)}"


def _hit_port(rng: random.Random, pools: Pools) -> str:
    d, port = _watched(rng), rng.choice(["443", "8443", "8080"])
    if rng.random() < 0.5:
        return f"https://{_wsub(rng)}{d}:{port}/login:{_l(rng, pools)}:{_p(rng, pools)}"
    return f"{_wsub(rng)}{d}:{port}:{_l(rng, pools)}:{_p(rng, pools)}"


def _hit_trailing_dot(rng: random.Random, pools: Pools) -> str:
    return f"https://www.{_watched(rng)}./connexion:{_l(rng, pools)}:{_p(rng, pools)}"


def _hit_schemeless(rng: random.Random, pools: Pools) -> str:
    path = rng.choice(["", "/espace", "/connexion/login"])
    return f"{_wsub(rng)}{_watched(rng)}{path}:{_l(rng, pools)}:{_p(rng, pools)}"


def _hit_pipe(rng: random.Random, pools: Pools) -> str:
    sep = rng.choice(["|", " | ", "\t", ";"])
    return f"https://www.{_watched(rng)}/{sep}{_l(rng, pools)}{sep}{_p(rng, pools)}"


def _hit_url_last(rng: random.Random, pools: Pools) -> str:
    url = rng.choice([f"https://www.{_watched(rng)}/", f"{_wsub(rng)}{_watched(rng)}"])
    return f"{_l(rng, pools)}:{_p(rng, pools)}:{url}"


def _hit_quoted(rng: random.Random, pools: Pools) -> str:
    return f'"https://{_wsub(rng)}{_watched(rng)}":{_l(rng, pools)}:{_p(rng, pools)}'


def _hit_android(rng: random.Random, pools: Pools) -> str:
    pkg = rng.choice(["fr.francetravail.app", "fr.pole-emploi.candidat", "fr.francetravail.m.app"])
    return f"android://{rng.choice(pools.sigs)}@{pkg}/:{_l(rng, pools)}:{_p(rng, pools)}"


def _hit_userinfo(rng: random.Random, pools: Pools) -> str:
    evil = rng.choice(pools.domains)
    return f"https://{evil}@www.{_watched(rng)}/:{_l(rng, pools)}:{_p(rng, pools)}"


def _hit_portal_host_other_path(rng: random.Random, pools: Pools) -> str:
    path = rng.choice(["/", "/accueil", "/kairosx", "/autre/kairos"])
    return f"https://{PORTAL_HOST}{path}:{_l(rng, pools)}:{_p(rng, pools)}"


def _portal_url(rng: random.Random) -> str:
    path = rng.choice(["/kairos", "/kairos/", "/kairos/login", "/kairos/auth/session"])
    host = rng.choice([PORTAL_HOST, PORTAL_HOST.upper(), PORTAL_HOST + "."])
    port = rng.choice(["", "", ":443"])
    return f"{rng.choice(['https://', 'http://', 'HTTPS://'])}{host}{port}{path}"


def _hit_portal(rng: random.Random, pools: Pools) -> str:
    url, login, pw = _portal_url(rng), _l(rng, pools), _p(rng, pools)
    form = rng.random()
    if form < 0.7:
        return f"{url}:{login}:{pw}"
    if form < 0.8:
        return f'"{url}":{login}:{pw}'
    if form < 0.9:
        return f"{url} | {login} | {pw}"
    return f"{login}:{pw}:{url}"


def _hit_portal_partner(rng: random.Random, pools: Pools) -> str:
    return f"{_portal_url(rng)}:{_partner_login(rng)}:{_p(rng, pools)}"


def _hit_partner_email(rng: random.Random, pools: Pools) -> str:
    return f"{_site(rng, pools)}:{_partner_login(rng)}:{_p(rng, pools)}"


def _hit_org_email(rng: random.Random, pools: Pools) -> str:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    sub = rng.choice(["", "", "agents."])
    return f"{_site(rng, pools)}:{first}.{last}@{sub}{_watched(rng)}:{_p(rng, pools)}"


def _hit_partner_combo(rng: random.Random, pools: Pools) -> str:
    return f"{_partner_login(rng)}:{_p(rng, pools)}"


# name → (maker, reasons, weight)
HIT_KINDS: dict[str, tuple[Maker, tuple[str, ...], int]] = {
    "host": (_hit_host, ("host",), 20),
    "host_upper_case": (_hit_upper, ("host",), 5),
    "host_port": (_hit_port, ("host",), 6),
    "host_trailing_dot": (_hit_trailing_dot, ("host",), 4),
    "host_schemeless": (_hit_schemeless, ("host",), 6),
    "host_other_separator": (_hit_pipe, ("host",), 5),
    "host_url_last": (_hit_url_last, ("host",), 4),
    "host_quoted": (_hit_quoted, ("host",), 3),
    "host_android": (_hit_android, ("host",), 5),
    "host_behind_userinfo": (_hit_userinfo, ("host",), 2),
    "host_portal_host_other_path": (_hit_portal_host_other_path, ("host",), 4),
    "portal": (_hit_portal, ("host", "portal"), 10),
    "portal_partner_login": (_hit_portal_partner, ("host", "portal", "email_domain"), 6),
    "partner_email": (_hit_partner_email, ("email_domain",), 10),
    "org_email": (_hit_org_email, ("email_domain",), 6),
    "partner_combo": (_hit_partner_combo, ("email_domain",), 4),
}

# --- decoys: contain a watched name, match nothing ------------------------------------------------


def _evil(rng: random.Random) -> str:
    return f"evil-{rng.randint(1, 9999)}.com"


def _decoy_suffix(rng: random.Random, pools: Pools) -> str:
    return f"https://{_watched(rng)}.{_evil(rng)}/login:{_l(rng, pools)}:{_p(rng, pools)}"


def _decoy_prefix(rng: random.Random, pools: Pools) -> str:
    pre = rng.choice(["not", "my", "www", "x-", "ex"])
    return f"https://{pre}{_watched(rng)}/:{_l(rng, pools)}:{_p(rng, pools)}"


def _decoy_userinfo(rng: random.Random, pools: Pools) -> str:
    return f"https://{_watched(rng)}@{_evil(rng)}/:{_l(rng, pools)}:{_p(rng, pools)}"


def _decoy_query(rng: random.Random, pools: Pools) -> str:
    tail = rng.choice([f"?u={_watched(rng)}", f"#{_watched(rng)}", f"?next=%2F%2F{_watched(rng)}"])
    return f"https://{_evil(rng)}/{tail}:{_l(rng, pools)}:{_p(rng, pools)}"


def _decoy_idn(rng: random.Random, pools: Pools) -> str:
    # Cyrillic `а` in place of Latin `a`: a different host, both as U-label and as A-label.
    uni = rng.choice(["francetrаvail.fr", "pоle-emploi.fr"])
    host = uni if rng.random() < 0.5 else uni.encode("idna").decode("ascii")
    return f"https://{host}/:{_l(rng, pools)}:{_p(rng, pools)}"


def _decoy_path(rng: random.Random, pools: Pools) -> str:
    return f"https://{_evil(rng)}/{_watched(rng)}/login:{_l(rng, pools)}:{_p(rng, pools)}"


def _decoy_password(rng: random.Random, pools: Pools) -> str:
    return f"{_site(rng, pools)}:{_l(rng, pools)}:{_watched(rng)}{rng.randint(1, 9999)}"


def _decoy_login(rng: random.Random, pools: Pools) -> str:
    first = rng.choice(_FIRST)
    login = rng.choice(
        [
            f"{first}@{_watched(rng)}.{_evil(rng)}",
            f"{first}@not{_watched(rng)}",
            f"{first}@formation-isere.example.{_evil(rng)}",
            f"{first}@formation-isere.examples",
            f"{first}.{_watched(rng)}",
        ]
    )
    return f"{_site(rng, pools)}:{login}:{_p(rng, pools)}"


def _decoy_android(rng: random.Random, pools: Pools) -> str:
    pkg = rng.choice(["com.evil.francetravail", "fr.francetravailx.app", "francetravail.fr.app"])
    return f"android://{rng.choice(pools.sigs)}@{pkg}/:{_l(rng, pools)}:{_p(rng, pools)}"


def _decoy_portal(rng: random.Random, pools: Pools) -> str:
    url = rng.choice(
        [
            f"https://{PORTAL_HOST}.{_evil(rng)}/kairos",
            f"https://{_evil(rng)}/kairos?from={PORTAL_HOST}",
        ]
    )
    return f"{url}:{_l(rng, pools)}:{_p(rng, pools)}"


DECOY_KINDS: dict[str, Maker] = {
    "suffix_lookalike": _decoy_suffix,
    "prefix_lookalike": _decoy_prefix,
    "userinfo_is_not_host": _decoy_userinfo,
    "watched_in_query": _decoy_query,
    "idn_homoglyph": _decoy_idn,
    "watched_in_path": _decoy_path,
    "watched_in_password": _decoy_password,
    "login_lookalike": _decoy_login,
    "android_lookalike": _decoy_android,
    "portal_lookalike": _decoy_portal,
}

# --- writing ------------------------------------------------------------------------------------


class Planted:
    """Where the planted lines go (0-based) and what each one is."""

    def __init__(self, rng: random.Random, lines: int, hit_rate: float, decoy_rate: float) -> None:
        n_hits = min(lines, round(lines * hit_rate))
        n_decoys = min(lines - n_hits, round(lines * decoy_rate))
        spots = rng.sample(range(lines), n_hits + n_decoys)
        names = list(HIT_KINDS)
        kinds = rng.choices(names, weights=[HIT_KINDS[n][2] for n in names], k=n_hits)
        decoys = rng.choices(list(DECOY_KINDS), k=n_decoys)
        self.at: dict[int, tuple[bool, str]] = {}
        for spot, kind in zip(spots[:n_hits], kinds, strict=True):
            self.at[spot] = (True, kind)
        for spot, kind in zip(spots[n_hits:], decoys, strict=True):
            self.at[spot] = (False, kind)
        self.sorted = sorted(self.at)

    def between(self, start: int, stop: int) -> list[int]:
        lo = bisect.bisect_left(self.sorted, start)
        hi = bisect.bisect_left(self.sorted, stop)
        return self.sorted[lo:hi]


def _background(rng: random.Random, pools: Pools, n: int) -> list[str]:
    """`n` background lines; the shapes of `_OTHER_SHARES` sit at random places among them."""
    ch = rng.choices
    lines = [
        f"{head}{domain}{tail}:{cred}"
        for head, domain, tail, cred in zip(
            ch(pools.heads, k=n),
            ch(pools.domains, k=n),
            ch(pools.tails, k=n),
            ch(pools.creds, k=n),
            strict=True,
        )
    ]
    counts = [round(n * share) for _, share in _OTHER_SHARES]
    spots = rng.sample(range(n), sum(counts))
    pos = 0
    for (shape, _), count in zip(_OTHER_SHARES, counts, strict=True):
        if not count:
            continue
        doms = ch(pools.domains, k=count)
        logins = ch(pools.logins, k=count)
        pws = ch(pools.passwords, k=count)
        clean = ch(pools.clean_passwords, k=count)
        if shape == "android":
            made = [
                f"android://{s}@{p}/:{lg}:{pw}"
                for s, p, lg, pw in zip(
                    ch(pools.sigs, k=count), ch(pools.packages, k=count), logins, pws, strict=True
                )
            ]
        elif shape == "schemeless":
            made = [
                f"{s}{d}{p}:{lg}:{pw}"
                for s, d, p, lg, pw in zip(
                    ch(_SUBS, k=count),
                    doms,
                    ch(["", "/login", "/"], k=count),
                    logins,
                    pws,
                    strict=True,
                )
            ]
        elif shape == "pipe":
            made = [
                f"https://{d}/{s}{lg}{s}{pw}"
                for d, s, lg, pw in zip(
                    doms, ch(["|", "|", " | "], k=count), logins, clean, strict=True
                )
            ]
        elif shape == "url_last":
            made = [
                f"{lg}:{pw}:https://{d}/" for d, lg, pw in zip(doms, logins, clean, strict=True)
            ]
        else:
            made = [f"{lg}:{pw}" for lg, pw in zip(logins, pws, strict=True)]
        for spot, line in zip(spots[pos : pos + count], made, strict=True):
            lines[spot] = line
        pos += count
    return lines


def generate(
    out: Path,
    *,
    lines: int,
    seed: int,
    hit_rate: float = 0.0001,
    decoy_rate: float = 0.00005,
    n_domains: int = 200_000,
    member_zip: bool = False,
    chunk: int = CHUNK_LINES,
) -> dict[str, object]:
    """Write `out`, `out.truth.json` (and `out.zip`); return the truth."""
    rng = random.Random(seed)
    pools = Pools(rng, n_domains)
    planted = Planted(rng, lines, hit_rate, decoy_rate)
    hits: list[tuple[int, str]] = []  # (1-based line, kind)
    decoys: list[tuple[int, str]] = []
    digest = hashlib.sha256()
    size = 0
    zip_path = Path(f"{out}.zip")
    archive = (
        zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        if member_zip
        else None
    )
    try:
        member: IO[bytes] | None = None
        if archive is not None:
            member = archive.open(out.name, "w", force_zip64=True)
        with out.open("wb", buffering=0) as fh:
            for start in range(0, lines, chunk):
                n = min(chunk, lines - start)
                block = _background(rng, pools, n)
                for spot in planted.between(start, start + n):
                    is_hit, kind = planted.at[spot]
                    if is_hit:
                        block[spot - start] = HIT_KINDS[kind][0](rng, pools)
                        hits.append((spot + 1, kind))
                    else:
                        block[spot - start] = DECOY_KINDS[kind](rng, pools)
                        decoys.append((spot + 1, kind))
                data = ("\n".join(block) + "\n").encode("utf-8")
                fh.write(data)
                if member is not None:
                    member.write(data)
                digest.update(data)
                size += len(data)
        if member is not None:
            member.close()
    finally:
        if archive is not None:
            archive.close()
    by_reason: Counter[str] = Counter()
    for _, kind in hits:
        by_reason.update(HIT_KINDS[kind][1])
    truth: dict[str, object] = {
        "lines": lines,
        "bytes": size,
        "sha256": digest.hexdigest(),
        "seed": seed,
        "watch": {
            "domains": list(WATCHED_DOMAINS),
            "portals": [PORTAL],
            "partner_email_domains": list(PARTNER_EMAIL_DOMAINS),
        },
        "reason_rules": {
            "host": "canonical URL host equals or is under a watched domain (portal lines too)",
            "portal": "host is the portal host and the path is /kairos or below",
            "email_domain": "login e-mail domain equals or is under a watched or partner domain",
        },
        "hit_lines": len(hits),
        "hits_by_kind": dict(sorted(Counter(kind for _, kind in hits).items())),
        "hits_by_reason": {r: by_reason[r] for r in ("host", "portal", "email_domain")},
        "decoy_lines": len(decoys),
        "decoys_by_kind": dict(sorted(Counter(kind for _, kind in decoys).items())),
        "decoy_kinds": list(DECOY_KINDS),
        "hits": [
            {"line": line, "kind": kind, "reasons": list(HIT_KINDS[kind][1])} for line, kind in hits
        ],
        "decoys": [{"line": line, "kind": kind} for line, kind in decoys],
    }
    Path(f"{out}.truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return truth


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.gen_ulp", description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path, help="corpus file to write")
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hit-rate", type=float, default=0.0001, help="share of planted hit lines")
    ap.add_argument("--decoy-rate", type=float, default=0.00005, help="share of decoy lines")
    ap.add_argument("--domains", type=int, default=200_000, help="synthetic background domains")
    ap.add_argument("--member-zip", action="store_true", help="also write OUT.zip (one member)")
    args = ap.parse_args(argv)
    if args.lines < 0 or not 0 <= args.hit_rate + args.decoy_rate <= 1 or args.domains < 1:
        ap.error("--lines must be >= 0, rates in [0, 1], --domains >= 1")
    t0 = time.perf_counter()
    truth = generate(
        args.out,
        lines=args.lines,
        seed=args.seed,
        hit_rate=args.hit_rate,
        decoy_rate=args.decoy_rate,
        n_domains=args.domains,
        member_zip=args.member_zip,
    )
    seconds = time.perf_counter() - t0
    print(
        f"{args.out}: {truth['lines']} lines, {truth['bytes']} bytes, {truth['hit_lines']} hits, "
        f"{truth['decoy_lines']} decoys in {seconds:.1f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
