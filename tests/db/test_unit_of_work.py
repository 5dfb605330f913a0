"""The unit-of-work contract, on real connections and a real pool."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from app.core.errors import DatabaseUnavailableError
from app.db.uow import UnitOfWork

EMAIL = "uow@example.com"


@pytest.fixture
async def pool(own_database: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(own_database, min_size=2, max_size=2) as pool:
        yield pool


def uow_on(pool: asyncpg.Pool) -> UnitOfWork:
    return UnitOfWork(pool, acquire_timeout=2)


async def count_users(pool: asyncpg.Pool) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM users")
    return count


async def create(uow: UnitOfWork, email: str = EMAIL) -> None:
    await uow.users.create(email=email, password_hash="x", full_name=None)


async def test_outer_block_commits_on_success(pool: asyncpg.Pool) -> None:
    uow = uow_on(pool)
    async with uow.transaction():
        await create(uow)
    await uow.close()
    assert await count_users(pool) == 1


async def test_exception_rolls_back_and_releases(pool: asyncpg.Pool) -> None:
    uow = uow_on(pool)
    with pytest.raises(RuntimeError):
        async with uow.transaction():
            await create(uow)
            raise RuntimeError("boom")
    await uow.close()
    assert await count_users(pool) == 0
    assert pool.get_idle_size() == pool.get_size()


async def test_nested_block_is_a_savepoint(pool: asyncpg.Pool) -> None:
    uow = uow_on(pool)
    async with uow.transaction():
        await create(uow, "outer@example.com")
        with pytest.raises(RuntimeError):
            async with uow.transaction():
                await create(uow, "inner@example.com")
                raise RuntimeError("inner fails")
    await uow.close()
    emails = [r["email"] for r in await pool.fetch("SELECT email FROM users")]
    assert emails == ["outer@example.com"]


async def test_nested_inside_an_outside_transaction_is_a_savepoint(
    conn: asyncpg.Connection,
) -> None:
    uow = UnitOfWork.borrowing(conn)
    with pytest.raises(RuntimeError):
        async with uow.transaction():
            await create(uow)
            raise RuntimeError("rolls back to the savepoint only")
    assert conn.is_in_transaction()  # the outside transaction is untouched
    assert await conn.fetchval("SELECT count(*) FROM users") == 0
    async with uow.transaction():
        await create(uow)
    assert await conn.fetchval("SELECT count(*) FROM users") == 1


async def test_borrowed_connection_is_never_released(conn: asyncpg.Connection) -> None:
    uow = UnitOfWork.borrowing(conn)
    await uow.users.find_by_email(EMAIL)
    await uow.close()
    assert not conn.is_closed()
    assert await conn.fetchval("SELECT 1") == 1


async def test_connection_is_acquired_on_first_use_only(pool: asyncpg.Pool) -> None:
    uow = uow_on(pool)
    assert not uow.holds_connection
    assert pool.get_idle_size() == pool.get_size()
    await uow.users.find_by_email(EMAIL)
    assert uow.holds_connection
    assert pool.get_idle_size() == pool.get_size() - 1
    await uow.close()
    assert not uow.holds_connection
    assert pool.get_idle_size() == pool.get_size()


async def test_every_repository_call_shares_one_connection(pool: asyncpg.Pool) -> None:
    uow = uow_on(pool)
    async with uow.transaction():
        await create(uow)
        pids = {await (await uow.connection()).fetchval("SELECT pg_backend_pid()")}
        await uow.users.find_by_email(EMAIL)
        pids.add(await (await uow.connection()).fetchval("SELECT pg_backend_pid()"))
    assert len(pids) == 1
    assert pool.get_size() - pool.get_idle_size() == 1
    await uow.close()


async def test_cancelled_work_releases_and_rolls_back(pool: asyncpg.Pool) -> None:
    uow = uow_on(pool)
    started = asyncio.Event()

    async def slow_write() -> None:
        async with uow.transaction():
            await create(uow)
            started.set()
            await (await uow.connection()).execute("SELECT pg_sleep(10)")

    async def request() -> None:
        try:
            await slow_write()
        finally:
            await uow.close()

    task = asyncio.create_task(request())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pool.get_idle_size() == pool.get_size()
    assert await count_users(pool) == 0
    stuck = await pool.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND state LIKE 'idle in transaction%'"
    )
    assert stuck == 0


async def test_acquire_timeout_is_database_unavailable(pool: asyncpg.Pool) -> None:
    held = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        uow = UnitOfWork(pool, acquire_timeout=0.2)
        with pytest.raises(DatabaseUnavailableError) as caught:
            await uow.users.find_by_email(EMAIL)
        assert isinstance(caught.value.__cause__, asyncio.TimeoutError)
        assert not uow.holds_connection
    finally:
        for connection in held:
            await pool.release(connection)


async def test_unreachable_database_is_database_unavailable(unreachable_pool: asyncpg.Pool) -> None:
    uow = uow_on(unreachable_pool)
    with pytest.raises(DatabaseUnavailableError) as caught:
        await uow.users.find_by_email(EMAIL)
    assert isinstance(caught.value.__cause__, OSError)


async def test_release_gives_the_connection_back_and_next_use_acquires_again(
    pool: asyncpg.Pool,
) -> None:
    uow = uow_on(pool)
    await create(uow)
    await uow.release()
    assert not uow.holds_connection
    assert pool.get_idle_size() == pool.get_size()
    assert await uow.users.find_by_email(EMAIL) is not None
    assert uow.holds_connection
    await uow.close()
    assert pool.get_idle_size() == pool.get_size()


async def test_release_inside_a_transaction_is_refused(pool: asyncpg.Pool) -> None:
    uow = uow_on(pool)
    with pytest.raises(RuntimeError, match="inside a transaction"):
        async with uow.transaction():
            await create(uow)
            await uow.release()
    await uow.close()
    assert await count_users(pool) == 0


async def test_release_leaves_a_borrowed_connection_alone(conn: asyncpg.Connection) -> None:
    uow = UnitOfWork.borrowing(conn)
    await create(uow)
    await uow.release()
    assert uow.holds_connection and not conn.is_closed()
