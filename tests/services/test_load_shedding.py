"""The bcrypt queue has a bound: past it a quick 503 with nothing done; and a locked
attempt answers 429 without queuing any bcrypt work at all.

Every hashing thread is held by the test (a CapacityLimiter of one, acquired here), so a
request that queued a hash would wait until the test lets go: finishing meanwhile proves
it queued none.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import anyio
import asyncpg
import pytest

from app.core.errors import RateLimitError, ServiceUnavailableError
from app.core.keys import KeyRing
from app.core.passwords import HasherBusyError, PasswordHasher
from app.core.tokens import TokenCodec
from app.db.uow import UnitOfWork
from app.services.auth import AuthService, LoginPolicy
from app.services.users import UserService
from tests.support.settings import TEST_PASSWORD, TEST_ROUNDS

EMAIL = "grace@example.com"
ADDRESS = "198.51.100.40"
POLICY = LoginPolicy(
    max_failures=2,
    max_failures_per_address=50,
    window_seconds=900,
    refresh_token_ttl=timedelta(days=14),
)


@pytest.fixture
def threads() -> anyio.CapacityLimiter:
    return anyio.CapacityLimiter(1)


@pytest.fixture
def hasher(threads: anyio.CapacityLimiter) -> PasswordHasher:
    return PasswordHasher(rounds=TEST_ROUNDS, max_queue=1, limiter=threads)


@pytest.fixture
async def auth(hasher: PasswordHasher, uow: UnitOfWork) -> AsyncIterator[AuthService]:
    await UserService(hasher=hasher).register(uow, email=EMAIL, password=TEST_PASSWORD)
    keys = KeyRing.shared_secret("s" * 40, "HS256")
    tokens = TokenCodec(keys=keys, expires_minutes=15, issuer="i", audience="a")
    yield AuthService(hasher=hasher, tokens=tokens, policy=POLICY)


async def attempts(conn: asyncpg.Connection) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM login_attempts")
    return count


async def wait_until_queued(hasher: PasswordHasher, jobs: int) -> None:
    async with asyncio.timeout(5):
        while hasher.queued < jobs:  # noqa: ASYNC110 (no event to wait on)
            await asyncio.sleep(0.01)


async def test_a_full_queue_is_a_quick_503_and_records_nothing(
    auth: AuthService,
    hasher: PasswordHasher,
    threads: anyio.CapacityLimiter,
    uow: UnitOfWork,
    conn: asyncpg.Connection,
) -> None:
    async with threads:  # every hashing thread busy
        first = asyncio.create_task(
            auth.login(uow, email=EMAIL, password=TEST_PASSWORD, client_address=ADDRESS)
        )
        await wait_until_queued(hasher, 1)
        recorded = await attempts(conn)
        async with asyncio.timeout(1):  # answered at once, not after the queue drains
            with pytest.raises(ServiceUnavailableError) as shed:
                await auth.login(uow, email=EMAIL, password=TEST_PASSWORD, client_address=ADDRESS)
            with pytest.raises(HasherBusyError):
                await UserService(hasher=hasher).register(
                    uow, email="new@example.com", password=TEST_PASSWORD
                )
        assert await attempts(conn) == recorded  # no attempt row: nothing was done
    assert shed.value.status_code == 503 and shed.value.headers["Retry-After"] == "1"
    assert (await first).user.email == EMAIL  # the queued one still gets its answer
    assert await uow.users.find_by_email("new@example.com") is None


async def test_a_locked_attempt_answers_429_without_queuing_a_hash(
    auth: AuthService, hasher: PasswordHasher, threads: anyio.CapacityLimiter, uow: UnitOfWork
) -> None:
    for _ in range(POLICY.max_failures):
        with pytest.raises(Exception, match="Invalid credentials"):
            await auth.login(uow, email=EMAIL, password="wrong password", client_address=ADDRESS)
    async with threads:  # a hash now would wait until this block ends
        async with asyncio.timeout(2):
            with pytest.raises(RateLimitError):
                await auth.login(uow, email=EMAIL, password=TEST_PASSWORD, client_address=ADDRESS)
        assert hasher.queued == 0
        # And an unlocked attempt does wait for a thread: the check above could fail.
        unlocked = asyncio.create_task(
            auth.login(
                uow, email="nobody@example.com", password=TEST_PASSWORD, client_address=ADDRESS
            )
        )
        await wait_until_queued(hasher, 1)
        assert not unlocked.done()
    with pytest.raises(Exception, match="Invalid credentials"):
        await unlocked
