"""users.updated_at follows every real change, whoever makes it (revision 20261127_0002)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from uuid import UUID

import asyncpg
import pytest

from app.db.uow import UnitOfWork


@pytest.fixture
async def conn(own_database: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of its own, outside the suite's savepoints: now() moves per commit."""
    connection = await asyncpg.connect(own_database)
    yield connection
    await connection.close()


async def create_user(conn: asyncpg.Connection) -> UUID:
    uow = UnitOfWork.borrowing(conn)
    async with uow.transaction():
        user = await uow.users.create(email="ada@example.com", password_hash="h", full_name="A")
    return user.id


async def stamps(conn: asyncpg.Connection, user_id: UUID) -> tuple[datetime, datetime]:
    row = await conn.fetchrow("SELECT created_at, updated_at FROM users WHERE id = $1", user_id)
    assert row is not None
    return row["created_at"], row["updated_at"]


async def test_update_that_does_not_set_updated_at_still_moves_it(
    conn: asyncpg.Connection,
) -> None:
    """As a data fix typed into psql would."""
    user_id = await create_user(conn)
    created_at, updated_at = await stamps(conn, user_id)

    await conn.execute("UPDATE users SET full_name = 'Ada L.' WHERE id = $1", user_id)

    created_after, updated_after = await stamps(conn, user_id)
    assert updated_after > updated_at
    assert created_after == created_at


async def test_update_that_changes_nothing_leaves_updated_at(conn: asyncpg.Connection) -> None:
    user_id = await create_user(conn)
    before = await stamps(conn, user_id)

    await conn.execute("UPDATE users SET full_name = full_name WHERE id = $1", user_id)

    assert await stamps(conn, user_id) == before


async def test_statement_cannot_backdate_updated_at(conn: asyncpg.Connection) -> None:
    user_id = await create_user(conn)
    _, updated_at = await stamps(conn, user_id)

    await conn.execute(
        "UPDATE users SET updated_at = '2000-01-01', full_name = 'X' WHERE id = $1", user_id
    )

    _, updated_after = await stamps(conn, user_id)
    assert updated_after > updated_at
