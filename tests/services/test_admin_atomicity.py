"""A change and its audit event commit together or not at all: the last step of a
deactivation (the commit, after the event is written) fails, and nothing of it remains."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest

from app.core.errors import AppError
from app.core.models import Actor
from app.db.database import Database
from app.services.admin import AdminService
from tests.support.admin import audit_rows
from tests.support.settings import make_settings

HASH = "$2b$04$" + "x" * 53

# A constraint trigger deferred to COMMIT: it fires after every statement of the
# deactivation has run, the event's INSERT included, and fails the commit itself.
FAIL_AT_COMMIT = """
CREATE FUNCTION test_fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'the last step fails'; END $$;
CREATE CONSTRAINT TRIGGER test_fail_at_commit AFTER INSERT ON audit_events
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_fail_at_commit();
"""
REMOVE = """
DROP TRIGGER test_fail_at_commit ON audit_events;
DROP FUNCTION test_fail_at_commit();
"""


@pytest.fixture
async def database(own_database: str) -> AsyncIterator[Database]:
    database = Database(make_settings(database_url=own_database))
    await database.open()
    yield database
    await database.close()


async def test_a_failing_last_step_leaves_neither_the_change_nor_the_event(
    database: Database, own_database: str
) -> None:
    uow = database.unit_of_work()
    db = await asyncpg.connect(own_database)
    try:
        async with uow.transaction():
            user = await uow.users.create(
                email="ada@example.com", password_hash=HASH, full_name=None
            )
            await uow.sessions.open(
                user.id, max_age=timedelta(days=1), user_agent=None, address=None
            )
        await db.execute(FAIL_AT_COMMIT)
        try:
            with pytest.raises(AppError):
                await AdminService().deactivate(uow, user_id=user.id, actor=Actor.cli())
        finally:
            await db.execute(REMOVE)  # the database goes back to the pool as good as new

        assert await db.fetchval("SELECT is_active FROM users WHERE id = $1", user.id) is True
        live = "SELECT count(*) FROM sessions WHERE user_id = $1 AND ended_at IS NULL"
        assert await db.fetchval(live, user.id) == 1
        assert await audit_rows(db, user.id) == []

        # Without the failure the same call commits all three.
        await AdminService().deactivate(uow, user_id=user.id, actor=Actor.cli())
        assert await db.fetchval("SELECT is_active FROM users WHERE id = $1", user.id) is False
        assert await db.fetchval(live, user.id) == 0
        assert [event["type"] for event in await audit_rows(db, user.id)] == ["user_deactivated"]
    finally:
        await uow.close()
        await db.close()
