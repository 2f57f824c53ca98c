"""E-mail notifier: alerts (one each, or a digest) as plain text + HTML over SMTP with aiosmtplib.

Admins get every alert. With `partner_contacts` on, a partner's security contact also gets a
separate message about that partner's exposures, and only those, written for them
(monitor.partner_report): never a copy of the internal alert. The SMTP password is read from an
environment variable named in config. Connection errors and 4xx replies are retried a few times;
5xx replies are final.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import ssl
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any, ClassVar, Self

import aiosmtplib
from pydantic import Field

from monitor import partner_report
from monitor.errors import ProviderError
from monitor.notify import Alert, Delivery
from monitor.partner_report import PartnerItem
from monitor.retry import RetryPolicy, Sleep, TryAgain, retry_call
from monitor.settings import Section, SettingError, load_section, secret_from_env
from notifiers import render

log = logging.getLogger(__name__)

SECTION = "notifiers.email"
SECURITY_PORTS = {"starttls": 587, "tls": 465, "none": 25}
_MSGID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")


class EmailSection(Section):
    """`[notifiers.email]`: SMTP server, sender, admin recipients; password from the environment."""

    host: str = Field(min_length=1, description="SMTP server.")
    sender: str = Field(min_length=1, description="From address.")
    to: list[str] | str = Field(description="Admin recipients (one address or a list).")
    port: int | None = Field(default=None, description="SMTP port (default from `security`).")
    security: str = Field(default="starttls", description="`starttls`, `tls` or `none`.")
    username: str | None = Field(default=None, min_length=1, description="SMTP login.")
    password_env: str | None = Field(
        default=None, description="Variable holding the SMTP password."
    )
    partner_contacts: bool = Field(
        default=False,
        description="Mail each partner's security contact a separate message about their users.",
    )
    mode: str = Field(
        default="each", description="`each` (one mail per alert) or `digest` (one mail per round)."
    )
    timeout: float = Field(default=30.0, ge=0.1, description="Seconds per SMTP exchange.")
    subject_prefix: str = Field(
        default="[credwatch]", min_length=1, description="Prefix of every subject."
    )
    cafile: str | None = Field(
        default=None, min_length=1, description="CA bundle to verify the server."
    )
    attempts: int = Field(default=3, ge=1, description="Tries per message.")


def mailbox(text: str | None) -> str | None:
    """The bare address in `text` (`Name <a@b>` or `a@b`), or None when it is not one address."""
    if not text or any(ord(c) < 32 or ord(c) == 127 for c in text):
        return None
    _, addr = parseaddr(text)
    local, at, domain = addr.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in addr):
        return None
    return addr


def _alert_msgid(alert: Alert, domain: str) -> str:
    """One Message-ID per alert, the same on every attempt: a receiver can drop a re-send."""
    stamp = int(alert.created_at.timestamp()) if alert.created_at else 0
    return f"<credwatch.alert.{alert.id}.{stamp}@{domain}>"


def _partner_msgid(alert: Alert, domain: str) -> str:
    """The partner message's Message-ID, the same on every attempt, revealing no internal id:
    a digest of the alert id with the exposure's keyed fingerprint."""
    stamp = int(alert.created_at.timestamp()) if alert.created_at else 0
    seed = f"{alert.id}:{stamp}:{alert.exposure.fingerprint}".encode()
    return f"<{hashlib.sha256(seed).hexdigest()[:32]}@{domain}>"


def _outcome(recipients: Sequence[str], refused: Mapping[str, int]) -> str:
    """Per recipient: who got it, who refused it (with the reply code)."""
    got = [r for r in recipients if r not in refused]
    text = f"mailed to {len(got)} recipient(s)"
    if refused:
        text += "; refused: " + ", ".join(f"{a} ({c})" for a, c in sorted(refused.items()))
    return text


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
        policy: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if security not in SECURITY_PORTS:
            raise SettingError(SECTION, "", "security must be one of starttls, tls, none")
        if username is not None and security == "none":
            raise SettingError(SECTION, "", "username needs security starttls or tls")
        if (username is None) != (password is None):
            raise SettingError(SECTION, "", "username and password_env go together")
        envelope_sender = mailbox(sender)
        if envelope_sender is None:
            raise SettingError(SECTION, "", "sender is not an e-mail address")
        if not admins:
            raise SettingError(SECTION, "", "to must list at least one address")
        for admin in admins:
            if mailbox(admin) != admin:
                raise SettingError(
                    SECTION, "", f"to: {render.clean(admin, 80)!r} is not an address"
                )
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
        self._policy = policy or RetryPolicy(base=2.0, cap=60.0)
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
        s = load_section(EmailSection, section, section=SECTION)
        admins = [s.to] if isinstance(s.to, str) else s.to
        if s.mode not in ("each", "digest"):
            raise SettingError(SECTION, "", "mode must be each or digest")
        tls_context = None
        if s.cafile is not None:
            try:
                tls_context = ssl.create_default_context(cafile=s.cafile)
            except (OSError, ssl.SSLError) as exc:
                raise SettingError(
                    SECTION, "cafile", f"cannot be read ({type(exc).__name__})"
                ) from None
        password = None
        if s.password_env is not None:
            password = secret_from_env(SECTION, "password_env", s.password_env, env, strip=False)
        return cls(
            host=s.host.strip(),
            port=s.port,
            sender=s.sender.strip(),
            admins=[a.strip() for a in admins],
            security=s.security,
            username=s.username,
            password=password,
            timeout=s.timeout,
            tls_context=tls_context,
            partner_contacts=s.partner_contacts,
            digest=s.mode == "digest",
            subject_prefix=s.subject_prefix,
            policy=RetryPolicy(attempts=s.attempts, base=2.0, cap=60.0),
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
        """Envelope recipients of the internal message: the admins only."""
        return list(self._admins)

    def _partner_target(self, alert: Alert) -> tuple[str, PartnerItem] | None:
        """Where and what to tell the partner about this alert, when its contact gets mail."""
        contact = self.partner_contact(alert)
        if contact is None or contact in self._admins:
            return None
        view = partner_report.from_alert(alert)
        if view is None:
            log.warning(
                "partner message without recorded advice, skipped", extra={"alert": alert.id}
            )
            return None
        return contact, view

    # --- sending ------------------------------------------------------------------------

    async def send(self, alert: Alert, *, thread_ref: str | None = None) -> Delivery:
        """One message about one alert; `thread_ref` (a Message-ID) makes it a reply.

        Returns the thread's Message-ID as `Delivery.ref`.
        """
        recipients = self.recipients_for(alert)
        msg = self._message(
            subject=render.subject(alert, self._prefix),
            text=render.text_body(alert),
            html=render.html_body(alert),
            to=self._admins,
            cc=[],
            alert_ids=[alert.id],
            thread_ref=thread_ref,
            message_id=_alert_msgid(alert, self._domain),
        )
        refused = await self._deliver(msg, recipients)
        root = thread_ref if thread_ref and _MSGID.fullmatch(thread_ref) else msg["Message-ID"]
        detail = _outcome(recipients, refused)
        target = self._partner_target(alert)
        if target is not None:
            contact, view = target
            partner = alert.exposure.partner or ""
            note = self._partner_message(
                partner, [view], contact, _partner_msgid(alert, self._domain)
            )
            await self._deliver(note, [contact])
            detail += "; partner contact told separately"
        return Delivery(ref=root, detail=detail)

    async def send_digest(self, alerts: Sequence[Alert]) -> Delivery:
        """One message listing many alerts to the admins; each partner contact (when enabled)
        gets a separate digest of its own partner's alerts only."""
        if not alerts:
            return Delivery(detail="nothing to send")
        msg = self._digest_message(alerts, self._admins)
        await self._deliver(msg, self._admins)
        by_contact: dict[tuple[str, str], list[PartnerItem]] = {}
        for alert in alerts:
            target = self._partner_target(alert)
            if target is not None:
                contact, view = target
                by_contact.setdefault((contact, alert.exposure.partner or ""), []).append(view)
        for (contact, partner), views in by_contact.items():
            await self._deliver(self._partner_message(partner, views, contact, None), [contact])
        return Delivery(
            ref=msg["Message-ID"],
            detail=f"digest of {len(alerts)} alert(s) to {len(self._admins)} admin(s)"
            f" and {len(by_contact)} partner contact(s)",
        )

    def _partner_message(
        self, partner: str, views: Sequence[PartnerItem], contact: str, message_id: str | None
    ) -> EmailMessage:
        """The message for a partner's security contact: their exposures only, in their words,
        with no internal id in its headers either."""
        return self._message(
            subject=partner_report.subject(partner, views),
            text=partner_report.text(partner, views),
            html=partner_report.html_document(partner, views),
            to=[contact],
            cc=[],
            alert_ids=[],
            thread_ref=None,
            message_id=message_id,
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
        message_id: str | None = None,
    ) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self._sender
        msg["To"] = ", ".join(to)
        cc = list(cc)
        if cc:
            msg["Cc"] = ", ".join(cc)
        msg["Subject"] = render.header_safe(subject)
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg["Message-ID"] = message_id or make_msgid(domain=self._domain)
        msg["Auto-Submitted"] = "auto-generated"
        alert_ids = list(alert_ids)
        if alert_ids:
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

    async def _deliver(self, msg: EmailMessage, recipients: list[str]) -> dict[str, int]:
        """Send to `recipients`; returns the ones refused while others accepted (address →
        reply code). Raises when nobody accepted it."""
        return await retry_call(
            lambda: self._attempt(msg, recipients),
            policy=self._policy,
            what="smtp",
            sleep=self._sleep,
        )

    async def _attempt(self, msg: EmailMessage, recipients: list[str]) -> dict[str, int]:
        """One SMTP session: TryAgain on a connection error or a 4xx, ProviderError when final."""
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
            if not all(400 <= c < 500 for c in codes):
                raise ProviderError(
                    f"smtp: every recipient refused ({', '.join(map(str, codes))})",
                    retryable=False,
                    status=codes[0] if codes else None,
                ) from None
            raise TryAgain(
                f"every recipient refused ({', '.join(map(str, codes))})",
                status=codes[0] if codes else None,
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            if not 400 <= exc.code < 500:
                raise ProviderError(
                    f"smtp: {type(exc).__name__} {exc.code}", retryable=False, status=exc.code
                ) from None
            raise TryAgain(f"{type(exc).__name__} {exc.code}", status=exc.code) from None
        except OSError as exc:  # connect errors, disconnects, timeouts
            raise TryAgain(type(exc).__name__) from None
        except aiosmtplib.SMTPException as exc:  # e.g. AUTH or STARTTLS not offered
            raise ProviderError(
                f"smtp: {type(exc).__name__}: {render.clean(str(exc), 120)}", retryable=False
            ) from None
        if errors:  # the others have it: recorded per recipient, never sent again to them
            log.warning(
                "smtp: some recipients refused",
                extra={"refused": {a: r.code for a, r in errors.items()}},
            )
        return {addr: r.code for addr, r in errors.items()}

    async def aclose(self) -> None:
        """Nothing to close: every send opens and closes its own SMTP connection."""
