"""Pruning what retention no longer needs (for `auth-service db prune`): spent or expired
one-time tokens and delivered mails, in batches; live tokens and undelivered mail stay."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import asyncpg

from app.core.mail import MailContent
from app.core.one_time_tokens import TokenPurpose
from app.db.uow import UnitOfWork

CONTENT = MailContent(subject="s", text="t", html="<p>h</p>")
DAY = timedelta(days=1)


async def _token(uow: UnitOfWork, user_id: UUID, tag: bytes) -> None:
    assert await uow.one_time_tokens.issue_with_mail(
        user_id=user_id,
        purpose=TokenPurpose.VERIFY,
        token_hash=tag.ljust(32, b"."),
        ttl=DAY,
        recipient="ada@example.com",
        content=CONTENT,
        max_per_hour=100,
    )


async def test_prune_deletes_spent_expired_and_delivered_in_batches(
    uow: UnitOfWork, conn: asyncpg.Connection
) -> None:
    user = await uow.users.create(email="ada@example.com", password_hash="x", full_name=None)
    for tag in (b"live", b"spent", b"expired"):
        await _token(uow, user.id, tag)
    await conn.execute(
        "UPDATE one_time_tokens SET used_at = clock_timestamp() - interval '2 days'"
        " WHERE token_hash = $1",
        b"spent".ljust(32, b"."),
    )
    await conn.execute(
        "UPDATE one_time_tokens SET expires_at = clock_timestamp() - interval '2 days'"
        " WHERE token_hash = $1",
        b"expired".ljust(32, b"."),
    )
    # The three mails issue_with_mail queued: one delivered long ago, one just now, one pending.
    await conn.execute(
        "UPDATE mail_outbox SET status = 'sent', sent_at = clock_timestamp() - interval '2 days'"
        " WHERE id = (SELECT min(id) FROM mail_outbox)"
    )
    await conn.execute(
        "UPDATE mail_outbox SET status = 'sent', sent_at = clock_timestamp()"
        " WHERE id = (SELECT min(id) + 1 FROM mail_outbox)"
    )
    age = DAY.total_seconds()

    assert await uow.one_time_tokens.prune_batch(older_than_seconds=age, limit=1) == 1
    assert await uow.one_time_tokens.prune_batch(older_than_seconds=age, limit=10) == 1
    assert await uow.one_time_tokens.prune_batch(older_than_seconds=age, limit=10) == 0
    assert await conn.fetchval("SELECT count(*) FROM one_time_tokens") == 1  # the live one

    assert await uow.mail_outbox.prune_batch(older_than_seconds=age, limit=10) == 1
    assert await uow.mail_outbox.prune_batch(older_than_seconds=age, limit=10) == 0
    statuses = sorted(row["status"] for row in await conn.fetch("SELECT status FROM mail_outbox"))
    assert statuses == ["pending", "sent"]  # the recent delivery and the undelivered one stay
