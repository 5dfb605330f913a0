"""`db prune`: old login and registration attempts and long-dead refresh tokens go, in
batches; everything a lockout, a limit or a live session still needs stays."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from app.core.models import AuditEventType
from app.db.uow import UnitOfWork
from app.services.retention import prune
from tests.support.cli import auth_service

DAY = timedelta(days=1)

# Bulk test data: $1 rows 40+ days old and $2 recent ones in each attempts table.
ATTEMPTS = """
INSERT INTO login_attempts (email_key, client_address, outcome, attempted_at)
SELECT 'ada@example.com', '192.0.2.1', 'bad_credentials',
       clock_timestamp() - make_interval(days => 40 + i % 5)
FROM generate_series(1, $1) AS i
UNION ALL
SELECT 'ada@example.com', '192.0.2.1', 'bad_credentials', clock_timestamp()
FROM generate_series(1, $2) AS i;
"""
REGISTRATIONS = """
INSERT INTO registration_attempts (client_address, attempted_at)
SELECT '192.0.2.1', clock_timestamp() - make_interval(days => 40 + i % 5)
FROM generate_series(1, $1) AS i
UNION ALL
SELECT '192.0.2.1', clock_timestamp() FROM generate_series(1, $2) AS i
"""


async def seed(uow: UnitOfWork, conn: asyncpg.Connection, *, old: int, recent: int) -> None:
    await conn.execute(ATTEMPTS, old, recent)
    await conn.execute(REGISTRATIONS, old, recent)
    user = await uow.users.create(email="ada@example.com", password_hash="h", full_name=None)
    session_id = await uow.sessions.open(
        user.id, max_age=timedelta(days=30), user_agent=None, address="192.0.2.1"
    )
    ended = await uow.sessions.open(
        user.id, max_age=timedelta(days=30), user_agent=None, address="192.0.2.1"
    )
    await conn.execute(
        "UPDATE sessions SET ended_at = clock_timestamp() - interval '40 days',"
        " end_reason = 'logout' WHERE id = $1",
        ended,
    )
    now = datetime.now(UTC)
    # Expired long ago, expired lately, live, and live but revoked long ago (the last).
    for n, expires_at in enumerate([now - 40 * DAY, now - 2 * DAY, now + 10 * DAY, now + DAY]):
        await uow.refresh_tokens.create(
            user_id=user.id,
            session_id=session_id,
            token_hash=bytes([n]) * 32,
            expires_at=expires_at,
        )
    await conn.execute(
        "UPDATE refresh_tokens SET revoked_at = clock_timestamp() - interval '35 days' "
        "WHERE token_hash = $1",
        bytes([3]) * 32,
    )


async def counts(conn: asyncpg.Connection) -> tuple[int, int, int]:
    return (
        await conn.fetchval("SELECT count(*) FROM login_attempts"),
        await conn.fetchval("SELECT count(*) FROM registration_attempts"),
        await conn.fetchval("SELECT count(*) FROM refresh_tokens"),
    )


async def test_prune_deletes_only_what_is_past_the_cutoff_in_batches(
    uow: UnitOfWork, conn: asyncpg.Connection
) -> None:
    await seed(uow, conn, old=250, recent=7)
    deleted = await prune(uow, older_than_days=30, batch_size=60)  # several batches each
    assert deleted == {
        "login attempts": 250,
        "registration attempts": 250,
        "expired or revoked refresh tokens": 2,  # expired 40 days ago; revoked 35 days ago
        "ended or expired sessions": 1,  # ended 40 days ago; the live one stays
        "spent or expired one-time tokens": 0,
        "delivered mails": 0,
        "audit events": 0,  # their own retention (365 days): none is that old
    }
    assert await counts(conn) == (7, 7, 2)  # recent attempts, the live and just-expired tokens
    assert await prune(uow, older_than_days=30) == dict.fromkeys(deleted, 0)


async def test_db_prune_prints_what_it_deleted(own_database: str) -> None:
    conn = await asyncpg.connect(own_database)
    try:
        await seed(UnitOfWork.borrowing(conn), conn, old=30, recent=3)
        env = {"DATABASE_URL": own_database}
        result = await auth_service("db", "prune", "--older-than", "30", env=env)
        assert result.exit_code == 0, result.stderr
        assert result.stdout.splitlines() == [
            "login attempts: 30 deleted",
            "registration attempts: 30 deleted",
            "expired or revoked refresh tokens: 2 deleted",
            "ended or expired sessions: 1 deleted",
            "spent or expired one-time tokens: 0 deleted",
            "delivered mails: 0 deleted",
            "audit events: 0 deleted",
        ]
        assert await counts(conn) == (3, 3, 2)
    finally:
        await conn.close()


async def age_events(conn: asyncpg.Connection, uow: UnitOfWork, days: tuple[int, ...]) -> None:
    """One event per entry of `days`, that many days old."""
    for age in days:
        async with uow.transaction():
            await uow.audit_events.record(AuditEventType.LOGIN, user_id=uuid.uuid4())
        await conn.execute(
            "UPDATE audit_events SET at = clock_timestamp() - make_interval(days => $1)"
            " WHERE id = (SELECT max(id) FROM audit_events)",
            age,
        )


async def test_audit_events_keep_their_own_retention_whatever_older_than_says(
    uow: UnitOfWork, conn: asyncpg.Connection
) -> None:
    await age_events(conn, uow, (400, 370, 100, 1))
    deleted = await prune(uow, older_than_days=1, audit_retention_days=365, batch_size=1)
    assert deleted["audit events"] == 2
    assert await conn.fetchval("SELECT count(*) FROM audit_events") == 2
    assert (await prune(uow, older_than_days=30, audit_retention_days=50))["audit events"] == 1


async def test_db_prune_takes_audit_retention_days_from_the_environment(
    own_database: str,
) -> None:
    conn = await asyncpg.connect(own_database)
    try:
        await age_events(conn, UnitOfWork.borrowing(conn), (400, 100, 1))
        env = {"MIGRATION_DATABASE_URL": own_database, "AUDIT_RETENTION_DAYS": "50"}
        result = await auth_service("db", "prune", env=env)
        assert result.exit_code == 0, result.stderr
        assert "audit events: 2 deleted" in result.stdout.splitlines()
        assert await conn.fetchval("SELECT count(*) FROM audit_events") == 1
    finally:
        await conn.close()
