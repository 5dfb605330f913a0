"""The sessions repository on the real database: the check, and ending sessions."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import asyncpg
import pytest

from app.core.models import EndReason
from app.core.tokens import AccessClaims
from app.db.uow import UnitOfWork
from app.repositories.sessions import USER_OF_LIVE_SESSION

DAY = timedelta(days=1)


async def user_with_sessions(uow: UnitOfWork, count: int) -> tuple[UUID, list[UUID]]:
    user = await uow.users.create(
        email=f"{uuid4().hex}@example.com", password_hash="h", full_name=None
    )
    sessions = [
        await uow.sessions.open(user.id, max_age=DAY, user_agent="ua", address="192.0.2.1")
        for _ in range(count)
    ]
    return user.id, sessions


async def test_the_check_returns_the_user_of_a_live_session_only(uow: UnitOfWork) -> None:
    user_id, (session_id,) = await user_with_sessions(uow, 1)
    other_id, _ = await user_with_sessions(uow, 1)
    found = await uow.sessions.user_of_live_session(AccessClaims(user_id, session_id))
    assert found is not None and found.id == user_id
    # The session must be the token's user's own, and known.
    assert await uow.sessions.user_of_live_session(AccessClaims(other_id, session_id)) is None
    assert await uow.sessions.user_of_live_session(AccessClaims(user_id, uuid4())) is None


async def test_end_all_for_user_ends_every_live_session_and_counts_them(
    uow: UnitOfWork,
) -> None:
    user_id, sessions = await user_with_sessions(uow, 3)
    bystander, (kept,) = await user_with_sessions(uow, 1)
    assert await uow.sessions.end(sessions[0], user_id=user_id, reason=EndReason.LOGOUT)
    assert await uow.sessions.end_all_for_user(user_id, reason="password_reset") == 2
    assert await uow.sessions.end_all_for_user(user_id, reason="password_reset") == 0
    assert await uow.sessions.list_live(user_id) == []
    assert [session.id for session in await uow.sessions.list_live(bystander)] == [kept]


@pytest.mark.parametrize("reason", list(EndReason))
async def test_an_ended_session_keeps_its_row_and_reason(
    uow: UnitOfWork, conn: asyncpg.Connection, reason: EndReason
) -> None:
    """Kept for the audit trail until `db prune` removes it."""
    user_id, (session_id,) = await user_with_sessions(uow, 1)
    assert await uow.sessions.end(session_id, user_id=user_id, reason=reason)
    assert not await uow.sessions.end(session_id, user_id=user_id, reason=EndReason.LOGOUT)
    row = await conn.fetchrow("SELECT ended_at, end_reason FROM sessions WHERE id = $1", session_id)
    assert row is not None
    assert row["ended_at"] is not None and row["end_reason"] == reason
    assert await uow.sessions.user_of_live_session(AccessClaims(user_id, session_id)) is None


async def test_the_check_is_two_index_lookups(conn: asyncpg.Connection) -> None:
    """What every authenticated request pays: one statement, an index lookup per table."""
    await conn.execute("SET LOCAL enable_seqscan = off")  # empty tables: plan as if full
    plan = "\n".join(
        row[0] for row in await conn.fetch(f"EXPLAIN {USER_OF_LIVE_SESSION}", uuid4(), uuid4())
    )
    assert plan.count("Index Scan") == 2 and "Seq Scan" not in plan, plan
    assert "on sessions s" in plan and "users_pkey on users u" in plan, plan
