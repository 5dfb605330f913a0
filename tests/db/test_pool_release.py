"""A connection with nothing to undo goes back to the pool in the caller's own task, without
asyncpg's shielded release task and the loop turns it costs (app/db/pool_release.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from app.db.database import Database
from app.db.pool_release import release
from tests.support.settings import make_settings


def next_turn() -> asyncio.Event:
    """Set once the loop has run another turn: still unset, nothing since has yielded."""
    turned = asyncio.Event()
    asyncio.get_running_loop().call_soon(turned.set)
    return turned


@pytest.fixture
async def database(own_database: str) -> AsyncIterator[Database]:
    database = Database(make_settings(database_url=own_database, db_pool_min_size=2))
    await database.open()
    yield database
    await database.close()


async def test_a_release_with_nothing_to_undo_takes_no_loop_turn(database: Database) -> None:
    pool = database.pool
    connection = await pool.acquire()
    await connection.fetchval("SELECT 1")
    idle = pool.get_idle_size()
    other_task_ran = next_turn()

    await release(pool, connection, timeout_seconds=5)

    assert not other_task_ran.is_set(), "the release yielded to the loop"
    assert pool.get_idle_size() == idle + 1  # back in the pool, usable by the next request


async def test_the_unit_of_work_closes_without_a_loop_turn(database: Database) -> None:
    uow = database.unit_of_work()
    assert await uow.users.find_by_email("nobody@example.com") is None
    other_task_ran = next_turn()

    await uow.close()

    assert not other_task_ran.is_set(), "closing the unit of work yielded to the loop"
    assert database.pool.get_idle_size() == database.pool.get_size()


async def test_an_open_transaction_is_still_rolled_back_on_release(database: Database) -> None:
    pool = database.pool
    connection = await pool.acquire()
    await connection.execute("BEGIN")
    await connection.execute("CREATE TABLE left_open (id int)")

    await release(pool, connection, timeout_seconds=5)  # through Pool.release: a ROLLBACK

    async with pool.acquire() as again:
        assert not again.is_in_transaction()
        assert await again.fetchval("SELECT to_regclass('left_open')") is None


async def test_a_pool_without_our_reset_hook_keeps_asyncpg_s_release(own_database: str) -> None:
    """asyncpg's default reset sends a query, which waits: the shielded path, as before."""
    async with asyncpg.create_pool(own_database, min_size=1, max_size=1) as pool:
        connection = await pool.acquire()
        other_task_ran = next_turn()
        await release(pool, connection, timeout_seconds=5)
        assert other_task_ran.is_set()
        assert pool.get_idle_size() == 1
