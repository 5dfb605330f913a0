"""The outbox worker: delivers queued mails over SMTP, at least once.

Each pass claims a batch of due rows (FOR UPDATE SKIP LOCKED, with a lease: see
app/repositories/mail_outbox.py), sends them over one SMTP connection and marks each one
sent or failed right after its own attempt. A failure is retried after an exponential
backoff with jitter, capped; after `max_attempts` the mail is dead. Any number of workers,
in any number of processes, can share one outbox: a row is only ever claimed by one.

At least once, not exactly once: a worker that dies after the SMTP server accepted a mail
and before marking it sent leaves a claim that falls due again when its lease runs out, and
the mail goes out a second time. Its Message-ID comes from the row id, so the repeat is
recognisable. A clean shutdown finishes the mail in flight and hands every other claimed
row back at once: nothing is left claimed.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiosmtplib
import anyio

from app.core.errors import DatabaseError
from app.core.logging import get_logger
from app.core.mail import OutboxMail, mime_message
from app.core.mail_metrics import MailMetrics
from app.core.settings import ConfigError, Settings
from app.core.smtp import LogTransport, MailTransport, SmtpConfig, SmtpTransport
from app.db.uow import UnitOfWork

logger = get_logger("app.mail")

# What a refused or failed send raises: the server's answer, the network, a timeout.
_SEND_ERRORS = (aiosmtplib.SMTPException, OSError, TimeoutError)


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    max_attempts: int = 10  # MAIL_MAX_ATTEMPTS
    first_retry_seconds: float = 5.0  # the first retry comes 2.5-5 s after the failure
    max_retry_seconds: float = 300.0  # MAIL_RETRY_MAX_SECONDS
    batch_size: int = 10
    # Covers a whole batch at the SMTP timeout (10 x 15 s) with room to spare: a live
    # worker never loses its claim; a dead one's rows are due again this long after.
    lease_seconds: float = 300.0
    poll_seconds: float = 1.0  # MAIL_POLL_SECONDS: how soon a committed mail is noticed
    stats_seconds: float = 5.0  # how often the depth and age gauges are sampled

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            max_attempts=settings.mail_max_attempts,
            max_retry_seconds=settings.mail_retry_max_seconds,
            poll_seconds=settings.mail_poll_seconds,
        )

    def retry_delay(self, failures: int, rng: random.Random) -> float:
        """Seconds before the next attempt after `failures` failed ones: exponential,
        capped, with jitter ("equal jitter": between half and all of the step), so mails
        that failed together do not all come back at once."""
        step = min(self.max_retry_seconds, self.first_retry_seconds * 2.0 ** (failures - 1))
        return step * rng.uniform(0.5, 1.0)


def mail_transport(settings: Settings) -> MailTransport | None:
    """SMTP when SMTP_URL is set; the log in development; None (mails stay queued) else."""
    if settings.smtp_url is not None:
        try:
            return SmtpTransport(SmtpConfig.from_url(settings.smtp_url.get_secret_value()))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if settings.app_env == "development":
        return LogTransport()
    return None


class OutboxWorker:
    def __init__(
        self,
        *,
        unit_of_work: Callable[[], UnitOfWork],
        transport: MailTransport,
        mail_from: str,
        metrics: MailMetrics,
        policy: DeliveryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.id = uuid.uuid4()  # names this worker's claims
        self._unit_of_work = unit_of_work
        self._transport = transport
        self._mail_from = mail_from
        self.metrics = metrics
        self._policy = policy or DeliveryPolicy()
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not a secret)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Deliver until stop(); whatever ends it, this worker's claims are handed back."""
        next_stats = 0.0
        try:
            while not self._stopping.is_set():
                loop_time = asyncio.get_running_loop().time()
                if loop_time >= next_stats:
                    await self._sample_stats()
                    next_stats = loop_time + self._policy.stats_seconds
                try:
                    handled = await self.deliver_due()
                except Exception:  # a database outage, or a bug: the worker must outlive it
                    logger.warning("mail delivery pass failed; retrying", exc_info=True)
                    handled = 0
                if handled == 0:
                    with suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), self._policy.poll_seconds)
        finally:
            await self._release_claims()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="mail-outbox-worker")

    def stop(self) -> None:
        """Finish the mail in flight, claim no more."""
        self._stopping.set()

    async def shutdown(self, grace_seconds: float = 20.0) -> None:
        """Stop the task start() began: it gets `grace_seconds` to finish its current send,
        then is cancelled; either way its claims are released before this returns."""
        self.stop()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), grace_seconds)
        except TimeoutError:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def drain(self) -> int:
        """Deliver everything due now, then return how many attempts were made (--once)."""
        total = 0
        try:
            while not self._stopping.is_set() and (handled := await self.deliver_due()):
                total += handled
        finally:
            await self._release_claims()
            await self._sample_stats()
        return total

    async def deliver_due(self) -> int:
        """One pass: claim a batch, attempt each mail; how many were attempted."""
        uow = self._unit_of_work()
        try:
            mails = await uow.mail_outbox.claim_due(
                self.id,
                limit=self._policy.batch_size,
                lease=timedelta(seconds=self._policy.lease_seconds),
            )
            await uow.release()  # no connection held while SMTP talks
            if not mails:
                return 0
            return await self._send_batch(uow, mails)
        finally:
            await uow.close()

    async def _send_batch(self, uow: UnitOfWork, mails: list[OutboxMail]) -> int:
        attempted = 0
        try:
            async with self._transport.connect() as send:
                for mail in mails:
                    if self._stopping.is_set():
                        break  # the rest are handed back by run()/drain()
                    attempted += 1
                    try:
                        await send(mime_message(mail, mail_from=self._mail_from, now=_now()))
                    except Exception as exc:  # refused, or a row that cannot be sent: counted
                        await self._failed(uow, mail, exc)
                        await uow.release()
                        continue
                    await self._sent(uow, mail)
                    await uow.release()
        except _SEND_ERRORS as exc:  # no connection at all: every unattempted mail failed
            for mail in mails[attempted:]:
                await self._failed(uow, mail, exc)
            await uow.release()
            attempted = len(mails)
        return attempted

    async def _sent(self, uow: UnitOfWork, mail: OutboxMail) -> None:
        latency = await uow.mail_outbox.mark_sent(mail.id, self.id)
        self.metrics.sent.inc()
        if latency is None:
            logger.warning(
                "mail sent after its claim expired; it may go out twice", mail_id=mail.id
            )
        else:
            self.metrics.delivery_seconds.observe(latency)

    async def _failed(self, uow: UnitOfWork, mail: OutboxMail, error: BaseException) -> None:
        failures = mail.attempts + 1
        delay = self._policy.retry_delay(failures, self._rng)
        status = await uow.mail_outbox.mark_failed(
            mail.id,
            self.id,
            error=_describe(error),
            retry_in=timedelta(seconds=delay),
            max_attempts=self._policy.max_attempts,
        )
        if status == "dead":
            self.metrics.dead.inc()
            logger.error("mail is dead after its last attempt", mail_id=mail.id, attempts=failures)
        elif status == "pending":
            self.metrics.retried.inc()
            logger.warning(
                "mail not delivered; will retry",
                mail_id=mail.id,
                attempt=failures,
                retry_in_seconds=round(delay, 1),
                error=_describe(error),
            )

    async def _release_claims(self) -> None:
        with anyio.CancelScope(shield=True):
            uow = self._unit_of_work()
            try:
                released = await uow.mail_outbox.release_claims(self.id)
            except DatabaseError:
                # The lease runs out on its own: the rows fall due again after it.
                logger.warning("could not release claimed mails", exc_info=True)
                return
            finally:
                await uow.close()
            if released:
                logger.info("handed claimed mails back", count=released)

    async def _sample_stats(self) -> None:
        uow = self._unit_of_work()
        try:
            stats = await uow.mail_outbox.stats()
        except DatabaseError:
            return  # the next pass tries again; the delivery pass logs the outage
        finally:
            await uow.close()
        self.metrics.outbox_depth.set(stats.depth)
        self.metrics.oldest_due_seconds.set(stats.oldest_due_seconds)


def _describe(error: BaseException) -> str:
    """The error's class and text, bounded: server answers, never message contents."""
    return f"{type(error).__name__}: {error}"[:500]


def _now() -> datetime:
    return datetime.now(UTC)
