"""Revision 20261202_0004 (sessions): refresh-token families become sessions, and back."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import asyncpg
from jose import jwt

from app.core.models import EndReason
from app.core.refresh_tokens import hash_refresh_token, new_refresh_token
from app.db.uow import UnitOfWork
from tests.support.database import migrate
from tests.support.http import client_for, live_app
from tests.support.migrations import downgrade

REVISION = "20261202_0004"
BEFORE = "20261127_0003"

# Written as revision 0003's code wrote them: its repository no longer exists (and today's
# users repository writes columns later revisions add).
OLD_USER = """
INSERT INTO users (email, password_hash) VALUES ('ada@example.com', 'h')
RETURNING id, created_at
"""
OLD_TOKEN = """
INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, used_at)
VALUES ($1, $2, $3, now() + interval '14 days', $4)
"""


async def test_live_families_become_live_sessions_and_keep_refreshing(
    empty_database: str,
) -> None:
    await migrate(empty_database, BEFORE)
    live_family, dead_family, live_token = uuid4(), uuid4(), new_refresh_token()
    conn = await asyncpg.connect(empty_database)
    try:
        user = await conn.fetchrow(OLD_USER)
        assert user is not None
        await conn.execute(
            OLD_TOKEN, user["id"], live_family, hash_refresh_token("spent"), user["created_at"]
        )
        await conn.execute(OLD_TOKEN, user["id"], live_family, hash_refresh_token(live_token), None)
        await conn.execute(
            OLD_TOKEN, user["id"], dead_family, hash_refresh_token("d"), user["created_at"]
        )

        await migrate(empty_database, REVISION)
        rows = await conn.fetch(
            "SELECT id, expires_at - created_at AS lifetime, end_reason FROM sessions ORDER BY id"
        )
        assert {row["id"]: row["end_reason"] for row in rows} == {
            live_family: None,
            dead_family: "migrated",
        }
        assert {row["lifetime"] for row in rows} == {timedelta(days=30)}
    finally:
        await conn.close()

    # The client's old refresh token still works, and its new access token names the session.
    async with live_app(empty_database) as app, client_for(app) as http:
        response = await http.post("/api/v1/auth/refresh", json={"refresh_token": live_token})
    assert response.status_code == 200, response.text
    assert UUID(jwt.get_unverified_claims(response.json()["access_token"])["sid"]) == live_family


async def test_downgrade_restores_families_and_revives_no_ended_session(
    empty_database: str,
) -> None:
    await migrate(empty_database, REVISION)
    conn = await asyncpg.connect(empty_database)
    try:
        uow = UnitOfWork.borrowing(conn)
        user = await conn.fetchrow(OLD_USER)  # users as of this revision (no email_verified)
        assert user is not None
        kept, ended = [
            await uow.sessions.open(
                user["id"], max_age=timedelta(days=1), user_agent=None, address=None
            )
            for _ in range(2)
        ]
        for session_id in (kept, ended):
            await uow.refresh_tokens.create(
                user_id=user["id"],
                session_id=session_id,
                token_hash=hash_refresh_token(str(session_id)),
                expires_at=user["created_at"] + timedelta(days=14),
            )
        assert await uow.sessions.end(ended, user_id=user["id"], reason=EndReason.LOGOUT)

        await downgrade(empty_database, BEFORE)
        rows = await conn.fetch(
            "SELECT family_id, revoked_at IS NOT NULL AS revoked FROM refresh_tokens"
        )
        assert {row["family_id"]: row["revoked"] for row in rows} == {kept: False, ended: True}
    finally:
        await conn.close()
