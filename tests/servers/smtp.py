"""aiosmtpd servers on loopback for tests: plain, STARTTLS + AUTH, or implicit TLS (trustme CA)."""

from __future__ import annotations

import socket
import ssl
from collections import deque
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import TracebackType
from typing import Any, Self

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

USER = "monitor"
PASSWORD = "smtp-test-pass"


@dataclass(frozen=True, slots=True, kw_only=True)
class Received:
    """One message as the server accepted it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    authenticated: bool

    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class Sink:
    """Collects messages; can refuse chosen recipients or answer DATA with scripted replies."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.refuse: dict[str, str] = {}  # address → SMTP reply, e.g. "550 5.1.1 no such user"
        self.data_replies: deque[str] = deque()  # next DATA answers, e.g. "451 4.3.0 try later"
        self.data_attempts = 0

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.data_attempts += 1
        if self.data_replies:
            return self.data_replies.popleft()
        content = envelope.content
        assert isinstance(content, bytes)
        self.messages.append(
            Received(
                mail_from=str(envelope.mail_from),
                rcpt_tos=tuple(envelope.rcpt_tos),
                content=content,
                authenticated=bool(session.authenticated),
            )
        )
        return "250 Message accepted for delivery"


def _authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    # handled=False makes aiosmtpd answer 535 itself; True would leave the client hanging
    return AuthResult(success=ok, handled=False)


class _ImplicitTlsSMTP(SMTP):
    """aiosmtpd only counts STARTTLS as TLS for AUTH; on an implicit-TLS port all of it is TLS."""

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        if transport.get_extra_info("ssl_object") is not None:
            self._tls_protocol = True  # type: ignore[assignment]


class _ImplicitTlsController(Controller):
    def factory(self) -> SMTP:
        return _ImplicitTlsSMTP(self.handler, **self.SMTP_kwargs)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class SmtpServer:
    """`mode`: "plain" (no TLS, no AUTH), "starttls" (STARTTLS and AUTH required), "tls" (implicit)."""

    def __init__(self, mode: str = "plain") -> None:
        if mode not in ("plain", "starttls", "tls"):
            raise ValueError(mode)
        self.mode = mode
        self.sink = Sink()
        self.port = free_port()
        self.ca = trustme.CA()
        self._cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[Received]:
        return self.sink.messages

    def client_context(self) -> ssl.SSLContext:
        """An SSL context that trusts this server's certificate (and only its test CA)."""
        ctx = ssl.create_default_context()
        self.ca.configure_trust(ctx)
        return ctx

    def _server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._cert.configure_cert(ctx)
        return ctx

    def start(self) -> Self:
        kwargs: dict[str, Any] = {}
        if self.mode == "starttls":
            kwargs = {
                "tls_context": self._server_context(),
                "require_starttls": True,
                "authenticator": _authenticator,
                "auth_required": True,
            }
        elif self.mode == "tls":
            kwargs = {
                "ssl_context": self._server_context(),
                "authenticator": _authenticator,
                "auth_required": True,
            }
        kind = _ImplicitTlsController if self.mode == "tls" else Controller
        self._controller = kind(self.sink, hostname="127.0.0.1", port=self.port, **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
