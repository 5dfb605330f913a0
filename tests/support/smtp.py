"""A real SMTP server for the tests: aiosmtpd in a thread of this process, on a free port.

It keeps every message it accepts (parsed), can refuse them (a 4xx/5xx answer, as a real
server does when it is unhappy), can answer slowly, and can be stopped and started again on
the same port to play an SMTP outage.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import asyncpg
from aiosmtpd.controller import Controller
from prometheus_client import CollectorRegistry

from app.core.mail_metrics import MailMetrics
from app.core.smtp import SmtpConfig, SmtpTransport
from app.db.local import free_port
from app.db.uow import UnitOfWork
from app.services.mail_delivery import DeliveryPolicy, OutboxWorker

MAIL_FROM = "auth-service <no-reply@example.com>"

_TOKEN = re.compile(r"[?&]token=([A-Za-z0-9_-]+)")

# aiosmtpd logs every connection's end at INFO from its own thread, often after the test that
# opened it is over and pytest has closed that test's captured stream: "--- Logging error ---"
# and a traceback in the run's output, for nothing. Its warnings and errors still show.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class _Handler:
    def __init__(self, catcher: MailCatcher) -> None:
        self._catcher = catcher

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        catcher = self._catcher
        if catcher.delay_seconds:
            await asyncio.sleep(catcher.delay_seconds)
        if catcher.refusal is not None:
            return catcher.refusal
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with catcher.lock:
            catcher.messages.append(message)
        return "250 OK"


class MailCatcher:
    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.refusal: str | None = None  # e.g. "451 try again later": every mail refused
        self.delay_seconds = 0.0
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def received(self) -> list[EmailMessage]:
        with self.lock:
            return list(self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received() if m["To"] == address]

    def duplicates(self) -> int:
        """Messages received more than once (the same Message-ID), counting the repeats."""
        counts = Counter(m["Message-ID"] for m in self.received())
        return sum(n - 1 for n in counts.values())

    async def wait_for(self, count: int, seconds: float = 15.0) -> list[EmailMessage]:
        deadline = time.monotonic() + seconds
        while len(received := self.received()) < count:
            assert time.monotonic() < deadline, f"{len(received)} of {count} mails arrived"
            await asyncio.sleep(0.05)
        return received


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    content: str = body.get_content()
    return content


def html_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("html",))
    assert body is not None
    content: str = body.get_content()
    return content


def token_in(message: EmailMessage) -> str:
    """The one-time token in the mail's link (the text and HTML parts carry the same one)."""
    found = _TOKEN.search(text_of(message))
    assert found is not None, "no link with a token in the mail"
    assert f"token={found[1]}" in html_of(message)
    return found[1]


def worker_for(
    unit_of_work: Callable[[], UnitOfWork], catcher: MailCatcher, **policy: Any
) -> OutboxWorker:
    """An outbox worker sending to `catcher`, with its own metrics (worker.metrics)."""
    worker = OutboxWorker(
        unit_of_work=unit_of_work,
        transport=SmtpTransport(SmtpConfig.from_url(catcher.url), timeout_seconds=5),
        mail_from=MAIL_FROM,
        metrics=MailMetrics(CollectorRegistry()),
        policy=DeliveryPolicy(**policy),
    )
    return worker


def borrowed(conn: asyncpg.Connection) -> Callable[[], UnitOfWork]:
    """Units of work on the test's savepointed connection, for a worker inside the test."""
    return lambda: UnitOfWork.borrowing(conn)
