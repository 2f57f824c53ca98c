"""E-mail notifier: alerts (one each, or a digest) as plain text + HTML over SMTP with aiosmtplib.

Admins get every alert. With `partner_contacts` on, a partner's security contact also gets that
partner's alerts, and only those. The SMTP password is read from an environment variable named in
config. Connection errors and 4xx replies are retried a few times; 5xx replies are final.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any, ClassVar, Self

import aiosmtplib

from monitor.errors import ConfigError, ProviderError
from monitor.notify import Alert, Delivery
from notifiers import render, settings
from notifiers.http import Sleep

log = logging.getLogger(__name__)

SECTION = "email"
_KEYS = frozenset(
    {
        "host",
        "port",
        "security",
        "username",
        "password_env",
        "sender",
        "to",
        "partner_contacts",
        "mode",
        "timeout",
        "subject_prefix",
        "cafile",
        "attempts",
    }
)
SECURITY_PORTS = {"starttls": 587, "tls": 465, "none": 25}
_MSGID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")


def mailbox(text: str | None) -> str | None:
    """The bare address in `text` (`Name <a@b>` or `a@b`), or None when it is not one address."""
    if not text or any(ord(c) < 32 or ord(c) == 127 for c in text):
        return None
    _, addr = parseaddr(text)
    local, at, domain = addr.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in addr):
        return None
    return addr


class EmailNotifier:
    """Sends alerts by e-mail. Build with `from_config`; close with `aclose`.

    `digest` tells the caller which mode was configured: call `send_digest` on a schedule
    instead of `send` per alert.
    """

    name: ClassVar[str] = "email"

    def __init__(
        self,
        *,
        host: str,
        sender: str,
        admins: Sequence[str],
        port: int | None = None,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
        partner_contacts: bool = False,
        digest: bool = False,
        subject_prefix: str = "[credwatch]",
        attempts: int = 3,
        backoff: float = 2.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if security not in SECURITY_PORTS:
            raise ConfigError(f"[{SECTION}] security must be one of starttls, tls, none")
        if username is not None and security == "none":
            raise ConfigError(f"[{SECTION}] username needs security starttls or tls")
        if (username is None) != (password is None):
            raise ConfigError(f"[{SECTION}] username and password_env go together")
        envelope_sender = mailbox(sender)
        if envelope_sender is None:
            raise ConfigError(f"[{SECTION}] sender is not an e-mail address")
        if not admins:
            raise ConfigError(f"[{SECTION}] to must list at least one address")
        for admin in admins:
            if mailbox(admin) != admin:
                raise ConfigError(f"[{SECTION}] to: {render.clean(admin, 80)!r} is not an address")
        self._host = host
        self._port = port or SECURITY_PORTS[security]
        self._security = security
        self._username = username
        self._password = password
        self._timeout = timeout
        self._tls_context = tls_context
        self._sender = render.header_safe(sender)
        self._envelope_sender = envelope_sender
        self._domain = envelope_sender.rpartition("@")[2]
        self._admins = list(dict.fromkeys(a.lower() for a in admins))
        self.partner_contacts = partner_contacts
        self.digest = digest
        self._prefix = render.header_safe(subject_prefix, 40)
        self._attempts = max(attempts, 1)
        self._backoff = backoff
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"EmailNotifier(host={self._host!r}, port={self._port}, security={self._security!r})"

    @classmethod
    def from_config(cls, section: Mapping[str, Any], env: Mapping[str, str]) -> Self:
        """Build from the `[email]` section.

        Keys: `host`, `sender`, `to` (admin addresses); optional `port`, `security`
        (starttls | tls | none), `username` + `password_env`, `partner_contacts` (bool),
        `mode` (each | digest), `timeout` (s), `subject_prefix`, `cafile`, `attempts`.
        """
        for key in section:
            if key not in _KEYS:
                raise ConfigError(f"unknown key {key!r} in section [{SECTION}]")
        host = settings.text(SECTION, section, "host")
        sender = settings.text(SECTION, section, "sender")
        if host is None or sender is None:
            raise ConfigError(f"[{SECTION}] host and sender are required")
        admins = section.get("to")
        if isinstance(admins, str):
            admins = [admins]
        if not isinstance(admins, list) or not all(isinstance(a, str) for a in admins):
            raise ConfigError(f"[{SECTION}] to must be a list of addresses")
        mode = settings.text(SECTION, section, "mode") or "each"
        if mode not in ("each", "digest"):
            raise ConfigError(f"[{SECTION}] mode must be each or digest")
        port = section.get("port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int)):
            raise ConfigError(f"[{SECTION}] port must be an integer")
        cafile = settings.text(SECTION, section, "cafile")
        tls_context = None
        if cafile is not None:
            try:
                tls_context = ssl.create_default_context(cafile=cafile)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"[{SECTION}] cafile cannot be read: {exc}") from None
        partner_contacts = section.get("partner_contacts", False)
        if not isinstance(partner_contacts, bool):
            raise ConfigError(f"[{SECTION}] partner_contacts must be true or false")
        return cls(
            host=host,
            port=port,
            sender=sender,
            admins=[a.strip() for a in admins],
            security=settings.text(SECTION, section, "security") or "starttls",
            username=settings.text(SECTION, section, "username"),
            password=settings.secret(SECTION, section, "password_env", env, strip=False),
            timeout=settings.number(SECTION, section, "timeout", 30.0, minimum=0.1),
            tls_context=tls_context,
            partner_contacts=partner_contacts,
            digest=mode == "digest",
            subject_prefix=settings.text(SECTION, section, "subject_prefix") or "[credwatch]",
            attempts=int(settings.number(SECTION, section, "attempts", 3, minimum=1)),
        )

    # --- recipients ---------------------------------------------------------------------

    def partner_contact(self, alert: Alert) -> str | None:
        """The alert's partner security contact when that knob is on and the address is sane."""
        if not self.partner_contacts or not alert.partner_contact:
            return None
        contact = mailbox(alert.partner_contact)
        if contact is None:
            log.warning("partner contact is not an address, skipped", extra={"alert": alert.id})
            return None
        return contact.lower()

    def recipients_for(self, alert: Alert) -> list[str]:
        """Envelope recipients of the per-alert message: the admins, then the partner contact."""
        contact = self.partner_contact(alert)
        extra = [contact] if contact and contact not in self._admins else []
        return [*self._admins, *extra]

    # --- sending ------------------------------------------------------------------------

    async def send(self, alert: Alert, *, thread_ref: str | None = None) -> Delivery:
        """One message about one alert; `thread_ref` (a Message-ID) makes it a reply.

        Returns the thread's Message-ID as `Delivery.ref`.
        """
        recipients = self.recipients_for(alert)
        cc = [r for r in recipients if r not in self._admins]
        msg = self._message(
            subject=render.subject(alert, self._prefix),
            text=render.text_body(alert),
            html=render.html_body(alert),
            to=self._admins,
            cc=cc,
            alert_ids=[alert.id],
            thread_ref=thread_ref,
        )
        await self._deliver(msg, recipients)
        root = thread_ref if thread_ref and _MSGID.fullmatch(thread_ref) else msg["Message-ID"]
        return Delivery(ref=root, detail=f"mailed to {len(recipients)} recipient(s)")

    async def send_digest(self, alerts: Sequence[Alert]) -> Delivery:
        """One message listing many alerts to the admins; each partner contact (when enabled)
        gets a separate digest of its own partner's alerts only."""
        if not alerts:
            return Delivery(detail="nothing to send")
        msg = self._digest_message(alerts, self._admins)
        await self._deliver(msg, self._admins)
        by_contact: dict[str, list[Alert]] = {}
        for alert in alerts:
            contact = self.partner_contact(alert)
            if contact and contact not in self._admins:
                by_contact.setdefault(contact, []).append(alert)
        for contact, own in by_contact.items():
            await self._deliver(self._digest_message(own, [contact]), [contact])
        return Delivery(
            ref=msg["Message-ID"],
            detail=f"digest of {len(alerts)} alert(s) to {len(self._admins)} admin(s)"
            f" and {len(by_contact)} partner contact(s)",
        )

    def _digest_message(self, alerts: Sequence[Alert], to: list[str]) -> EmailMessage:
        return self._message(
            subject=render.digest_subject(alerts, self._prefix),
            text=render.digest_text(alerts),
            html=render.digest_html(alerts),
            to=to,
            cc=[],
            alert_ids=[a.id for a in alerts],
            thread_ref=None,
        )

    def _message(
        self,
        *,
        subject: str,
        text: str,
        html: str,
        to: Iterable[str],
        cc: Iterable[str],
        alert_ids: Iterable[int],
        thread_ref: str | None,
    ) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self._sender
        msg["To"] = ", ".join(to)
        cc = list(cc)
        if cc:
            msg["Cc"] = ", ".join(cc)
        msg["Subject"] = render.header_safe(subject)
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg["Message-ID"] = make_msgid(idstring="credwatch", domain=self._domain)
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Credwatch-Alert"] = ",".join(str(i) for i in alert_ids)
        if thread_ref:
            if _MSGID.fullmatch(thread_ref):
                msg["In-Reply-To"] = thread_ref
                msg["References"] = thread_ref
            else:
                log.warning("thread reference is not a Message-ID, ignored")
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
        return msg

    async def _deliver(self, msg: EmailMessage, recipients: list[str]) -> None:
        for attempt in range(1, self._attempts + 1):
            last = attempt == self._attempts
            try:
                errors, _ = await aiosmtplib.send(
                    msg,
                    sender=self._envelope_sender,
                    recipients=recipients,
                    hostname=self._host,
                    port=self._port,
                    username=self._username,
                    password=self._password,
                    use_tls=self._security == "tls",
                    start_tls=self._security == "starttls",
                    tls_context=self._tls_context,
                    timeout=self._timeout,
                )
            except ssl.SSLError as exc:
                raise ProviderError(
                    f"smtp: TLS failed ({exc.reason or type(exc).__name__})", retryable=False
                ) from None
            except aiosmtplib.SMTPRecipientsRefused as exc:
                codes = sorted({r.code for r in exc.recipients})
                transient = all(400 <= c < 500 for c in codes)
                if not transient or last:
                    raise ProviderError(
                        f"smtp: every recipient refused ({', '.join(map(str, codes))})",
                        retryable=transient,
                        status=codes[0] if codes else None,
                    ) from None
                error = f"recipients refused {codes}"
            except aiosmtplib.SMTPResponseException as exc:
                transient = 400 <= exc.code < 500
                if not transient or last:
                    raise ProviderError(
                        f"smtp: {type(exc).__name__} {exc.code}",
                        retryable=transient,
                        status=exc.code,
                    ) from None
                error = f"{type(exc).__name__} {exc.code}"
            except OSError as exc:  # connect errors, disconnects, timeouts
                if last:
                    raise ProviderError(
                        f"smtp: no answer after {attempt} attempts ({type(exc).__name__})",
                        retryable=True,
                    ) from None
                error = type(exc).__name__
            except aiosmtplib.SMTPException as exc:  # e.g. AUTH or STARTTLS not offered
                raise ProviderError(
                    f"smtp: {type(exc).__name__}: {render.clean(str(exc), 120)}", retryable=False
                ) from None
            else:
                if errors:
                    refused = ", ".join(f"{addr} ({r.code})" for addr, r in sorted(errors.items()))
                    raise ProviderError(
                        f"smtp: some recipients refused: {refused}", retryable=False
                    )
                return
            delay = min(self._backoff * 2.0 ** (attempt - 1), 60.0)
            log.warning(
                "smtp send failed, retrying",
                extra={"attempt": attempt, "error": error, "delay": delay},
            )
            await self._sleep(delay)

    async def aclose(self) -> None:
        """Nothing to close: every send opens and closes its own SMTP connection."""
