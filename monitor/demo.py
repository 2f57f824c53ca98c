"""Write a small synthetic sample (config, stealer-log archive, ULP base) with planted credentials.

Everything here is invented: hosts under real watched domains, logins and passwords made up,
decoys that must not match. Used by the quickstart and handy to try a configuration.
"""

from __future__ import annotations

import random
import string
import zipfile
from dataclasses import dataclass
from pathlib import Path

PORTAL = "https://portail-partenaire.francetravail.fr/kairos"

CONFIG = f"""\
# Demo configuration written by `credwatch demo`.
[organisation]
name = "France Travail"
domains = ["francetravail.fr", "pole-emploi.fr"]
portals = ["{PORTAL}"]

[[partners]]
name = "Organisme de formation, Isère"
email_domains = ["formation-isere.example"]
security_contact = "rssi@formation-isere.example"

[accounts]
logins = ["jdupont.of38", "m.martin@formation-isere.example"]
file = "accounts.csv"
"""

ACCOUNTS = """\
login,partner,idp,idp_user_id
of38.formation@gmail.com,"Organisme de formation, Isère",ldap,"uid=of38,ou=partners,dc=example,dc=test"
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Planted:
    """A credential the scan must report (synthetic). For cookies, login is the cookie name."""

    where: str
    url: str
    login: str
    password: str


def _password(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits + "!#%*+-="
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(10, 16)))


def _noise_sites(rng: random.Random, n: int) -> list[str]:
    words = ["shop", "mail", "games", "news", "bank", "travel", "forum", "cloud", "music"]
    tlds = ["com", "net", "org", "io", "de", "co.uk"]
    return [
        f"https://{rng.choice(['www.', 'login.', ''])}{rng.choice(words)}{i}.{rng.choice(tlds)}/login"
        for i in range(n)
    ]


def write_demo(target: Path, *, seed: int = 38) -> list[Planted]:
    """Create target/credwatch.toml, target/accounts.csv and target/dumps/*; return what is planted."""
    rng = random.Random(seed)
    dumps = target / "dumps"
    dumps.mkdir(parents=True, exist_ok=True)
    (target / "credwatch.toml").write_text(CONFIG, encoding="utf-8")
    (target / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")

    kairos = Planted(
        where="stealer",
        url=f"{PORTAL}/login",
        login="of38.formation@gmail.com",
        password=_password(rng),
    )
    planted = [
        kairos,
        Planted(
            where="ulp",
            url="https://candidat.francetravail.fr/espace",
            login="jean.exemple@gmail.com",
            password=_password(rng),
        ),
        Planted(
            where="ulp",
            url="https://www.netflix.com/login",
            login="m.martin@formation-isere.example",
            password=_password(rng),
        ),
        Planted(
            where="ulp",
            url="android://c2lnbmF0dXJl==@fr.francetravail.mobile/",
            login="jdupont.of38",
            password=_password(rng),
        ),
    ]
    decoys = [
        "https://francetravail.fr.evil-login.com/",
        "https://notfrancetravail.fr/",
        "https://francetravail.fr@evil.example.com/",
        "https://evil.example.com/?next=francetravail.fr",
        "https://xn--francetravai-8mb.fr/",
    ]
    cookie_value = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(48))

    planted.append(
        Planted(where="cookie", url=f"{PORTAL}/", login="JSESSIONID", password=cookie_value)
    )

    # A RedLine-style victim folder inside a reseller archive.
    victim = "FR[6F1C2A9B7D3E4F50A1B2C3D4E5F60718] [2025-06-02T09_14_51.1234567+02_00]"
    blocks = []
    for url in [*_noise_sites(rng, 6), kairos.url, *_noise_sites(rng, 3)]:
        login = kairos.login if url == kairos.url else f"user{rng.randint(1, 999)}@gmail.com"
        pw = kairos.password if url == kairos.url else _password(rng)
        blocks.append(
            f"URL: {url}\nUsername: {login}\nPassword: {pw}\nApplication: Google_[Chrome]_Default\n"
        )
    passwords_txt = "*" * 30 + "\n* Telegram: https://t.me/example_logs *\n" + "*" * 30 + "\n\n"
    passwords_txt += "===============\n".join(blocks)
    userinfo = (
        "Build ID: demo\r\nIP: 198.51.100.23\r\nCountry: FR\r\nLocation: Grenoble\r\n"
        "HWID: 6F1C2A9B7D3E4F50A1B2C3D4E5F60718\r\nMachineName: ACCUEIL-PC\r\n"
        "Log date: 6/2/2025 9:14:51 AM\r\n"
    )
    cookies = (
        "# Netscape HTTP Cookie File\n"
        f".portail-partenaire.francetravail.fr\tTRUE\t/kairos\tTRUE\t1893456000\tJSESSIONID\t{cookie_value}\n"
        f".shop1.com\tTRUE\t/\tFALSE\t0\tsid\t{_password(rng)}\n"
    )
    archive = dumps / "logs_2025-06.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{victim}/Passwords.txt", passwords_txt)
        zf.writestr(f"{victim}/UserInformation.txt", userinfo)
        zf.writestr(f"{victim}/Cookies/Google_[Chrome]_Default Network.txt", cookies)
        zf.writestr(f"{victim}/History/Google_[Chrome]_Default.txt", f"{PORTAL}/accueil\n")
        zf.writestr(f"{victim}/Brute.txt", kairos.password + "\n")

    # A flattened ULP base: noise, decoys, the planted lines, and the Kairos line resold.
    lines = []
    for url in _noise_sites(rng, 200):
        lines.append(f"{url}:user{rng.randint(1, 9999)}@mail.example:{_password(rng)}")
    for url in decoys:
        lines.append(f"{url}:victim{rng.randint(1, 99)}@gmail.com:{_password(rng)}")
    lines.append(f"https://shop7.com/login:someone@gmail.com:francetravail.fr{rng.randint(1, 99)}")
    for p in planted:
        if p.where == "ulp":
            lines.insert(rng.randint(0, len(lines)), f"{p.url}:{p.login}:{p.password}")
    lines.insert(rng.randint(0, len(lines)), f"{kairos.url}:{kairos.login}:{kairos.password}")
    (dumps / "ulp_base.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return planted
