"""AuditEventRepository: an event is written only inside a transaction, with its details."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from app.core.models import AuditEventType
from app.db.uow import UnitOfWork


async def test_record_writes_the_event_with_its_details(
    uow: UnitOfWork, conn: asyncpg.Connection
) -> None:
    user_id, actor_id = uuid.uuid4(), uuid.uuid4()
    async with uow.transaction():
        await uow.audit_events.record(
            AuditEventType.USER_DEACTIVATED,
            user_id=user_id,
            actor_id=actor_id,
            address="192.0.2.7",
            details={"via": "cli", "sessions_ended": 2},
        )
    row = await conn.fetchrow("SELECT * FROM audit_events WHERE user_id = $1", user_id)
    assert row is not None
    assert (row["type"], row["actor_id"], row["address"]) == (
        "user_deactivated",
        actor_id,
        "192.0.2.7",
    )
    assert await conn.fetchval(
        'SELECT details = \'{"via": "cli", "sessions_ended": 2}\'::jsonb FROM audit_events '
        "WHERE id = $1",
        row["id"],
    )


@pytest.mark.cluster
async def test_record_outside_a_transaction_is_refused(own_database: str) -> None:
    connection = await asyncpg.connect(own_database)
    try:
        uow = UnitOfWork.borrowing(connection)
        with pytest.raises(RuntimeError, match="transaction"):
            await uow.audit_events.record(AuditEventType.LOGIN, user_id=uuid.uuid4())
        assert await connection.fetchval("SELECT count(*) FROM audit_events") == 0
    finally:
        await connection.close()
