"""The transactional outbox and its worker, against real PostgreSQL and a real SMTP server:
commits and rollbacks, outages, backoff and dead mail, leases, several workers, shutdown."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import asyncpg
import pytest
from pydantic import ValidationError

from app.core.mail import MailContent, MailTemplates
from app.core.passwords import PasswordHasher
from app.db.database import Database
from app.db.uow import UnitOfWork
from app.services.mail_delivery import DeliveryPolicy
from app.services.one_time_links import LinkMailer, LinkPolicy
from app.services.password_reset import PasswordResetService
from tests.support.http import client_for, live_app
from tests.support.settings import TEST_PASSWORD, TEST_ROUNDS, make_settings
from tests.support.smtp import MailCatcher, worker_for

CONTENT = MailContent(subject="Hello", text="plain part", html="<p>html part</p>")


@asynccontextmanager
async def opened(url: str) -> AsyncIterator[Database]:
    database = Database(make_settings(database_url=url))
    await database.open()
    try:
        yield database
    finally:
        await database.close()


async def _enqueue(database: Database, count: int) -> None:
    uow = database.unit_of_work()
    try:
        async with uow.transaction():
            for n in range(count):
                await uow.mail_outbox.enqueue(f"user{n}@example.com", CONTENT)
    finally:
        await uow.close()


async def _age(url: str) -> None:
    """Move the clock past every pending backoff and lease (by SQL, never by sleeping)."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            "UPDATE mail_outbox SET next_attempt_at = clock_timestamp() WHERE status = 'pending'"
        )
    finally:
        await connection.close()


async def _rows(url: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        rows: list[asyncpg.Record] = await connection.fetch(
            "SELECT id, status, attempts, claimed_by, last_error, sent_at,"
            " extract(epoch FROM next_attempt_at - clock_timestamp())::float8 AS due_in"
            " FROM mail_outbox ORDER BY id"
        )
        return rows
    finally:
        await connection.close()


async def test_a_change_that_rolls_back_sends_nothing(
    own_database: str, mail_catcher: MailCatcher
) -> None:
    settings = make_settings(database_url=own_database)
    mailer = LinkMailer(
        templates=MailTemplates(), policy=LinkPolicy.from_settings(settings), metrics=None
    )
    resets = PasswordResetService(hasher=PasswordHasher(rounds=TEST_ROUNDS), mailer=mailer)
    async with opened(own_database) as database:
        uow = database.unit_of_work()
        async with uow.transaction():
            await uow.users.create(email="ada@example.com", password_hash="x", full_name=None)
        with pytest.raises(RuntimeError):
            async with uow.transaction():
                await resets.request(uow, email="ada@example.com", client_address="127.0.0.1")
                assert await _count(uow) == 1  # queued, inside the transaction
                raise RuntimeError("a later step of the same change failed")
        await uow.close()
        worker = worker_for(database.unit_of_work, mail_catcher)
        assert await worker.drain() == 0
        assert mail_catcher.received() == []
        assert await _rows(own_database) == []

        await resets.request(uow, email="ada@example.com", client_address="127.0.0.1")
        await uow.close()
        assert await worker.drain() == 1  # the same request, committed, is delivered
        assert len(mail_catcher.to("ada@example.com")) == 1


async def _count(uow: UnitOfWork) -> int:
    connection = await uow.connection()
    count: int = await connection.fetchval("SELECT count(*) FROM mail_outbox")
    return count


async def test_smtp_down_then_back_delivers_the_mail_once(
    own_database: str, mail_catcher: MailCatcher
) -> None:
    async with opened(own_database) as database:
        await _enqueue(database, 1)
        worker = worker_for(database.unit_of_work, mail_catcher)
        mail_catcher.stop()  # nothing listens on its port now
        assert await worker.drain() == 1
        (row,) = await _rows(own_database)
        assert (row["status"], row["attempts"], row["claimed_by"]) == ("pending", 1, None)
        assert "ConnectionRefused" in row["last_error"] or "SMTP" in row["last_error"]
        assert 0 < row["due_in"] <= 10  # the first retry comes within 10 s

        mail_catcher.start()
        assert await worker.drain() == 0  # not due yet: backing off
        await _age(own_database)
        assert await worker.drain() == 1
        (row,) = await _rows(own_database)
        assert (row["status"], row["attempts"]) == ("sent", 2)
        assert len(mail_catcher.received()) == 1
        assert mail_catcher.received()[0]["Message-ID"] == f"<outbox-{row['id']}@example.com>"
        assert worker.metrics.sent._value.get() == 1
        assert worker.metrics.retried._value.get() == 1


async def test_failures_back_off_exponentially_then_the_mail_is_dead(
    own_database: str, mail_catcher: MailCatcher
) -> None:
    mail_catcher.refusal = "550 5.7.1 not today"
    async with opened(own_database) as database:
        await _enqueue(database, 1)
        worker = worker_for(database.unit_of_work, mail_catcher, max_attempts=3)
        waits = []
        for attempt in (1, 2):
            assert await worker.drain() == 1
            (row,) = await _rows(own_database)
            assert (row["status"], row["attempts"]) == ("pending", attempt)
            assert "550" in row["last_error"]
            waits.append(row["due_in"])
            await _age(own_database)
        assert 2 < waits[0] <= 5 and 4.5 < waits[1] <= 10, waits  # 5 s, then 10 s, jittered
        assert await worker.drain() == 1
        (row,) = await _rows(own_database)
        assert (row["status"], row["attempts"], row["claimed_by"]) == ("dead", 3, None)
        await _age(own_database)
        assert await worker.drain() == 0  # dead mail is not tried again
        assert mail_catcher.received() == []
        assert worker.metrics.dead._value.get() == 1
        assert worker.metrics.retried._value.get() == 2


def test_retry_delays_grow_exponentially_are_capped_and_jittered() -> None:
    policy = DeliveryPolicy(max_retry_seconds=300)
    rng = random.Random(15)
    for failures in range(1, 30):
        step = min(300.0, 5.0 * 2 ** (failures - 1))
        delays = [policy.retry_delay(failures, rng) for _ in range(200)]
        assert step / 2 <= min(delays) and max(delays) <= step
        assert max(delays) - min(delays) > step / 4  # jitter spreads them
    assert max(policy.retry_delay(1, rng) for _ in range(200)) <= 10


async def test_a_claim_whose_worker_died_falls_due_again_after_its_lease(
    own_database: str, mail_catcher: MailCatcher
) -> None:
    async with opened(own_database) as database:
        await _enqueue(database, 1)
        dead = worker_for(database.unit_of_work, mail_catcher)
        uow = database.unit_of_work()
        (claimed,) = await uow.mail_outbox.claim_due(dead.id, limit=10, lease=timedelta(seconds=60))
        await uow.close()  # ...and the worker "dies" holding the claim
        survivor = worker_for(database.unit_of_work, mail_catcher)
        assert await survivor.drain() == 0  # leased: not due
        await _age(own_database)  # the lease runs out
        assert await survivor.drain() == 1
        assert len(mail_catcher.received()) == 1
        uow = database.unit_of_work()
        assert await uow.mail_outbox.mark_sent(claimed.id, dead.id) is None  # claim lost
        await uow.close()


async def test_two_workers_on_one_outbox_send_each_mail_exactly_once(
    own_database: str, mail_catcher: MailCatcher
) -> None:
    mails = 400
    async with opened(own_database) as first_db, opened(own_database) as second_db:
        await _enqueue(first_db, mails)
        first = worker_for(first_db.unit_of_work, mail_catcher)
        second = worker_for(second_db.unit_of_work, mail_catcher)
        counts = await asyncio.gather(first.drain(), second.drain())
    received = mail_catcher.received()
    assert len(received) == mails, counts
    assert mail_catcher.duplicates() == 0
    assert sum(counts) == mails and min(counts) > 0, counts  # both really took part
    rows = await _rows(own_database)
    assert {row["status"] for row in rows} == {"sent"}
    assert all(row["attempts"] == 1 for row in rows)


async def test_the_server_delivers_by_itself_and_shutdown_leaves_no_mail_claimed(
    own_database: str, mail_catcher: MailCatcher
) -> None:
    mail_catcher.delay_seconds = 0.05  # a slow server: shutdown finds mails in flight
    async with live_app(own_database, smtp_url=mail_catcher.url) as app, client_for(app) as http:
        response = await http.post(
            "/api/v1/users", json={"email": "ada@example.com", "password": TEST_PASSWORD}
        )
        assert response.status_code == 201
        await mail_catcher.wait_for(1)  # the lifespan's worker sent the verification mail
        await _enqueue(app.state.database, 60)
        await mail_catcher.wait_for(6)
    rows = await _rows(own_database)
    assert [row["id"] for row in rows if row["claimed_by"] is not None] == []
    sent = [row for row in rows if row["status"] == "sent"]
    assert len(sent) == len(mail_catcher.received()) < len(rows)  # stopped mid-stream
    assert mail_catcher.duplicates() == 0
    assert {row["status"] for row in rows} == {"sent", "pending"}


async def test_a_mail_that_cannot_be_built_fails_alone_and_the_others_go_out(
    own_database: str, mail_catcher: MailCatcher
) -> None:
    async with opened(own_database) as database:
        uow = database.unit_of_work()
        async with uow.transaction():
            await uow.mail_outbox.enqueue("ada@example.com\r\nBcc: eve@example.com", CONTENT)
            await uow.mail_outbox.enqueue("bob@example.com", CONTENT)
        await uow.close()
        worker = worker_for(database.unit_of_work, mail_catcher, max_attempts=1)
        assert await worker.drain() == 2
    assert [m["To"] for m in mail_catcher.received()] == ["bob@example.com"]
    assert [row["status"] for row in await _rows(own_database)] == ["dead", "sent"]


def test_the_poll_interval_is_a_setting_within_bounds() -> None:
    """MAIL_POLL_SECONDS reaches the worker's policy; zero or a minute-plus is refused."""
    assert DeliveryPolicy.from_settings(make_settings(mail_poll_seconds=0.25)).poll_seconds == 0.25
    for refused in (0, 61):
        with pytest.raises(ValidationError, match="mail_poll_seconds"):
            make_settings(mail_poll_seconds=refused)
