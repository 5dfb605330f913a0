"""Where mails go: an SMTP server (aiosmtplib) named by SMTP_URL, or, in development without
one, the log.

    smtp://[user:pass@]host[:port]          plain SMTP (port 25)
    smtp://host:587?starttls=true           upgraded with STARTTLS (port 587)
    smtps://[user:pass@]host[:port]         implicit TLS (port 465)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from app.core.logging import get_logger

logger = get_logger("app.mail")

Send = Callable[[EmailMessage], Awaitable[None]]
_TRUE = {"1", "true", "yes", "on"}


class MailTransport(Protocol):
    """Opens one connection for a batch of mails; `send` raises when a mail is refused."""

    def connect(self) -> AbstractAsyncContextManager[Send]: ...


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    implicit_tls: bool = False
    starttls: bool = False

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        """Parse SMTP_URL; ValueError names what is wrong (never the password)."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("SMTP_URL must start with smtp:// or smtps://")
        if not parts.hostname:
            raise ValueError("SMTP_URL names no host")
        options = parse_qs(parts.query)
        starttls = options.get("starttls", ["false"])[-1].lower() in _TRUE
        implicit_tls = parts.scheme == "smtps"
        if implicit_tls and starttls:
            raise ValueError("SMTP_URL: smtps:// is already TLS; drop ?starttls=true")
        try:
            port = parts.port
        except ValueError:
            raise ValueError("SMTP_URL has an invalid port") from None
        default_port = 465 if implicit_tls else 587 if starttls else 25
        return cls(
            host=parts.hostname,
            port=port or default_port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit_tls,
            starttls=starttls,
        )


class SmtpTransport:
    def __init__(self, config: SmtpConfig, *, timeout_seconds: float = 15.0) -> None:
        self._config = config
        self._timeout = timeout_seconds

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Send]:
        c = self._config
        client = aiosmtplib.SMTP(
            hostname=c.host,
            port=c.port,
            username=c.username,
            password=c.password,
            use_tls=c.implicit_tls,
            start_tls=c.starttls,  # explicit: never a silent downgrade or a surprise upgrade
            timeout=self._timeout,
        )
        await client.connect()

        async def send(message: EmailMessage) -> None:
            await client.send_message(message)

        try:
            yield send
        finally:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()


class LogTransport:
    """Development without SMTP_URL: each mail, its link included, goes to the log, so a
    `make run` user can follow it. Never used in production."""

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Send]:
        async def send(message: EmailMessage) -> None:
            body = message.get_body(preferencelist=("plain",))
            logger.info(
                "mail (development, no SMTP_URL: logged, not sent)",
                to=message["To"],
                subject=message["Subject"],
                message_id=message["Message-ID"],
                text=body.get_content() if body is not None else "",
            )

        yield send
