"""Test isolation cost: the suite's SAVEPOINT per test against TRUNCATE per test.

The same 200 "tests" run both ways on one connection each. A test registers a user through
the repository, finds it by email and records a login: the same email every time, so a
test only passes if the previous one's row is really gone. Setup and teardown (the
isolation itself) are timed apart from the test body.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from app.db.tables import metadata
from app.db.uow import UnitOfWork

EMAIL = "isolated@example.com"
HASH = "$2b$04$" + "x" * 53  # never verified: the body only stores and reads it


@dataclass(frozen=True)
class IsolationResult:
    name: str
    tests: int
    total_s: float
    isolation_s: float

    @property
    def per_test_ms(self) -> float:
        return self.total_s / self.tests * 1000

    @property
    def isolation_per_test_ms(self) -> float:
        return self.isolation_s / self.tests * 1000


async def _test_body(uow: UnitOfWork) -> None:
    async with uow.transaction():  # as the services do: a savepoint or a real commit
        user = await uow.users.create(email=EMAIL, password_hash=HASH, full_name="Iso")
    found = await uow.users.find_by_email(EMAIL.upper())
    assert found is not None and found.id == user.id
    async with uow.transaction():
        updated = await uow.users.record_login(user.id, verified_hash=HASH, new_hash=None)
    assert updated is not None and updated.last_login is not None


async def _run(
    name: str,
    conn: asyncpg.Connection,
    tests: int,
    setup: Callable[[], Awaitable[object]],
    teardown: Callable[[object], Awaitable[None]],
) -> IsolationResult:
    uow = UnitOfWork.borrowing(conn)
    isolation = 0.0
    started = time.perf_counter()
    for _ in range(tests):
        t0 = time.perf_counter()
        handle = await setup()
        t1 = time.perf_counter()
        await _test_body(uow)
        t2 = time.perf_counter()
        await teardown(handle)
        isolation += (t1 - t0) + (time.perf_counter() - t2)
    return IsolationResult(name, tests, time.perf_counter() - started, isolation)


async def savepoint_isolation(url: str, tests: int) -> IsolationResult:
    """One outer transaction; a SAVEPOINT per test, rolled back after it (tests/conftest)."""
    conn = await asyncpg.connect(url)
    try:
        outer = conn.transaction()
        await outer.start()

        async def setup() -> object:
            savepoint = conn.transaction()
            await savepoint.start()
            return savepoint

        async def teardown(savepoint: object) -> None:
            await savepoint.rollback()  # type: ignore[attr-defined]

        result = await _run("savepoint", conn, tests, setup, teardown)
        await outer.rollback()
        return result
    finally:
        await conn.close()


async def truncate_isolation(url: str, tests: int) -> IsolationResult:
    """Real commits; every table emptied after each test."""
    tables = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    statement = f"TRUNCATE {tables} RESTART IDENTITY CASCADE"
    conn = await asyncpg.connect(url)
    try:

        async def setup() -> object:
            return None

        async def teardown(_: object) -> None:
            await conn.execute(statement)

        return await _run("truncate", conn, tests, setup, teardown)
    finally:
        await conn.close()


async def compare(url: str, tests: int = 200) -> tuple[IsolationResult, IsolationResult]:
    # A short warm-up of each, so neither pays for cold caches in the measured run.
    await savepoint_isolation(url, 10)
    await truncate_isolation(url, 10)
    return await savepoint_isolation(url, tests), await truncate_isolation(url, tests)
