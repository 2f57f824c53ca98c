"""Free-mail providers: the one list of mailbox domains anyone can open for themselves.

A login at one of these names a person, not an organisation: on a domain's own sites it is one
of the domain's users, never a third party. Matched on the mailbox's domain or the domain it
sits under (`mail.yahoo.co.jp` is Yahoo's).
"""

from __future__ import annotations

from monitor.normalize import under_domain

FREE_MAIL: frozenset[str] = frozenset(
    {
        # global
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
        "yahoo.com", "ymail.com", "rocketmail.com", "aol.com", "aim.com", "icloud.com",
        "me.com", "mac.com", "proton.me", "protonmail.com", "protonmail.ch", "pm.me",
        "tutanota.com", "tuta.io", "tutamail.com", "zoho.com", "zohomail.com", "gmx.com",
        "gmx.net", "mail.com", "yandex.com", "fastmail.com", "hushmail.com", "inbox.com",
        "hey.com", "duck.com",
        # regional variants of the global ones
        "hotmail.fr", "hotmail.co.uk", "hotmail.de", "hotmail.it", "hotmail.es", "live.fr",
        "live.co.uk", "live.de", "live.it", "outlook.fr", "outlook.de", "outlook.es",
        "yahoo.fr", "yahoo.co.uk", "yahoo.de", "yahoo.it", "yahoo.es", "yahoo.co.jp",
        "yahoo.com.br", "yahoo.co.in", "gmx.de", "gmx.fr", "gmx.at", "gmx.ch", "yandex.ru",
        # France
        "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "neuf.fr", "laposte.net", "bbox.fr",
        "club-internet.fr", "aliceadsl.fr", "numericable.fr",
        # Europe
        "web.de", "t-online.de", "freenet.de", "libero.it", "virgilio.it", "tiscali.it",
        "alice.it", "seznam.cz", "centrum.cz", "wp.pl", "o2.pl", "interia.pl", "onet.pl",
        "mail.ru", "bk.ru", "list.ru", "inbox.ru", "rambler.ru", "ukr.net", "btinternet.com",
        "sky.com", "virginmedia.com", "telenet.be", "skynet.be", "bluewin.ch", "terra.es",
        "sapo.pt", "abv.bg",
        # elsewhere
        "qq.com", "163.com", "126.com", "sina.com", "naver.com", "hanmail.net", "daum.net",
        "rediffmail.com", "uol.com.br", "bol.com.br", "comcast.net", "verizon.net",
        "att.net", "sbcglobal.net", "cox.net", "shaw.ca", "bigpond.com", "optusnet.com.au",
    }
)  # fmt: skip


def is_free_mail(mail_domain: str) -> bool:
    """Whether an e-mail domain (canonical) is a free-mail provider's, or under one."""
    return under_domain(mail_domain, FREE_MAIL) is not None
