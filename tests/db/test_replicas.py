"""Read routing in the unit of work, against a real streaming replica."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from prometheus_client import CollectorRegistry

from app.core.metrics import ReplicaMetrics
from app.core.passwords import PasswordHasher
from app.db.database import Database
from app.db.replica_health import ReplicaHealthChecker
from app.services.users import UserService
from tests.support.polling import eventually
from tests.support.replication import (
    Replicated,
    in_recovery,
    set_replay_paused,
    wait_for_replay,
)
from tests.support.settings import TEST_PASSWORD, make_settings

pytestmark = pytest.mark.cluster


@asynccontextmanager
async def database_on(
    replicated: Replicated,
    *,
    replicas: int = 1,
    metrics: ReplicaMetrics | None = None,
    **overrides: Any,
) -> AsyncIterator[tuple[Database, ReplicaHealthChecker]]:
    """Pools on the test's primary and replica (listed `replicas` times), checked once."""
    settings = make_settings(
        database_url=replicated.primary_url,
        database_replica_urls=",".join([replicated.replica_url] * replicas),
        **overrides,
    )
    database = Database(settings)
    await database.open()
    checker = ReplicaHealthChecker.configured(
        database.pool, database.replicas, settings, metrics=metrics
    )
    try:
        await checker.check_once()  # the test drives the checks: no background task
        yield database, checker
    finally:
        await checker.stop()
        await database.close()


async def create_user(database: Database, email: str = "replica@example.com") -> UUID:
    uow = database.unit_of_work()
    try:
        async with uow.transaction():
            user = await uow.users.create(email=email, password_hash="x", full_name=None)
    finally:
        await uow.close()
    return user.id


async def read_user(database: Database, user_id: UUID) -> tuple[bool, bool]:
    """In a request of its own: whether the user was found, and whether the primary served."""
    uow = database.unit_of_work()
    try:
        found = await uow.users.get_by_id(user_id, replica_ok=True) is not None
        return found, uow.holds_connection
    finally:
        await uow.close()


async def until_health(database: Database, checker: ReplicaHealthChecker, healthy: bool) -> None:
    async def reached() -> bool:
        await checker.check_once()
        return database.replicas.replicas[0].healthy is healthy

    await eventually(reached)


async def test_replica_safe_read_is_served_by_a_replica(replicated: Replicated) -> None:
    async with database_on(replicated) as (database, _):
        user_id = await create_user(database)
        await wait_for_replay(replicated.primary_url, replicated.replica_url)
        uow = database.unit_of_work()
        try:
            user = await uow.users.get_by_id(user_id, replica_ok=True)
            assert user is not None and user.id == user_id
            assert not uow.holds_connection  # the primary was never touched
            assert await in_recovery(await uow.connection(replica_ok=True))
        finally:
            await uow.close()


async def test_reads_not_marked_replica_safe_go_to_the_primary(replicated: Replicated) -> None:
    async with database_on(replicated) as (database, _):
        uow = database.unit_of_work()
        try:
            assert not await in_recovery(await uow.connection())
        finally:
            await uow.close()


async def test_replicas_take_turns(replicated: Replicated) -> None:
    async with database_on(replicated, replicas=2) as (database, _):
        assert set(database.pools()) == {"primary", "replica-0", "replica-1"}
        served_by = []
        for _ in range(4):
            uow = database.unit_of_work()
            try:
                connection = await uow.connection(replica_ok=True)
                served_by.append(
                    await connection.fetchval("SELECT current_setting('application_name')")
                )
            finally:
                await uow.close()
        assert served_by == ["auth-service/replica-0", "auth-service/replica-1"] * 2


async def test_reads_inside_a_transaction_go_to_the_primary(replicated: Replicated) -> None:
    async with database_on(replicated) as (database, _):
        uow = database.unit_of_work()
        try:
            async with uow.transaction():
                assert not await in_recovery(await uow.connection(replica_ok=True))
        finally:
            await uow.close()


async def test_read_your_writes_with_replay_paused(
    replicated: Replicated, hasher: PasswordHasher
) -> None:
    async with database_on(replicated, db_replica_max_lag_seconds=600) as (database, _):
        await set_replay_paused(replicated.replica_url, True)
        uow = database.unit_of_work()
        try:
            user = await UserService(hasher=hasher).register(
                uow, email="ryw@example.com", password=TEST_PASSWORD
            )
            reread = await uow.users.get_by_id(user.id, replica_ok=True)
            assert reread is not None and reread.email == "ryw@example.com"
        finally:
            await uow.close()
        # The replica really is behind, and a request that wrote nothing, missing the user
        # there, asks the primary before answering "not found".
        replica = await asyncpg.connect(replicated.replica_url)
        try:
            assert await replica.fetchval("SELECT count(*) FROM users") == 0
        finally:
            await replica.close()
        assert await read_user(database, user.id) == (True, True)


async def test_nothing_found_anywhere_is_not_found(replicated: Replicated) -> None:
    async with database_on(replicated) as (database, _):
        assert await read_user(database, UUID(int=1)) == (False, True)


async def test_a_request_holds_at_most_one_connection_per_pool(replicated: Replicated) -> None:
    async with database_on(replicated) as (database, _):
        primary, replica = database.pools()["primary"], database.pools()["replica-0"]

        def in_use(pool: asyncpg.Pool) -> int:
            busy: int = pool.get_size() - pool.get_idle_size()
            return busy

        user_id = await create_user(database)
        await wait_for_replay(replicated.primary_url, replicated.replica_url)
        uow = database.unit_of_work()
        try:
            for _ in range(3):
                await uow.users.get_by_id(user_id, replica_ok=True)
            assert (in_use(primary), in_use(replica)) == (0, 1)
            await create_user(database, "other@example.com")  # another request, for contrast
            async with uow.transaction():
                await uow.users.create(email="w@example.com", password_hash="x", full_name=None)
            await uow.users.get_by_id(user_id, replica_ok=True)
            assert (in_use(primary), in_use(replica)) == (1, 1)
        finally:
            await uow.close()
        assert (in_use(primary), in_use(replica)) == (0, 0)


async def test_a_replica_failing_mid_read_is_retried_on_the_primary(
    replicated: Replicated,
) -> None:
    async with database_on(replicated) as (database, _):
        user_id = await create_user(database)
        await wait_for_replay(replicated.primary_url, replicated.replica_url)
        uow = database.unit_of_work()
        try:
            connection = await uow.connection(replica_ok=True)
            pid = await connection.fetchval("SELECT pg_backend_pid()")
            killer = await asyncpg.connect(replicated.replica_url)
            try:
                assert await killer.fetchval("SELECT pg_terminate_backend($1)", pid)
            finally:
                await killer.close()
            user = await uow.users.get_by_id(user_id, replica_ok=True)
            assert user is not None and user.id == user_id
            assert uow.holds_connection  # the retry ran on the primary
        finally:
            await uow.close()
        assert (
            database.pools()["replica-0"].get_idle_size()
            == database.pools()["replica-0"].get_size()
        )


async def test_stopped_replica_falls_back_then_rejoins(replicated: Replicated) -> None:
    async with database_on(replicated) as (database, checker):
        user_id = await create_user(database)
        await wait_for_replay(replicated.primary_url, replicated.replica_url)
        assert await read_user(database, user_id) == (True, False)

        replicated.replica.stop("fast")
        try:
            # Before any check notices: the failed replica read falls back, no error.
            assert await read_user(database, user_id) == (True, True)
            await checker.check_once()
            assert not database.replicas.replicas[0].healthy
            assert math.isnan(database.replicas.replicas[0].lag_seconds)
            assert await read_user(database, user_id) == (True, True)
        finally:
            replicated.replica.start()

        await until_health(database, checker, True)
        assert await read_user(database, user_id) == (True, False)


async def test_excess_lag_falls_back_until_the_replica_catches_up(
    replicated: Replicated,
) -> None:
    async with database_on(replicated, db_replica_max_lag_seconds=0.5) as (database, checker):
        user_id = await create_user(database)
        await wait_for_replay(replicated.primary_url, replicated.replica_url)
        await until_health(database, checker, True)

        await set_replay_paused(replicated.replica_url, True)
        await create_user(database, "while-paused@example.com")  # WAL the replica lacks
        await until_health(database, checker, False)
        assert database.replicas.replicas[0].lag_seconds > 0.5
        assert await read_user(database, user_id) == (True, True)

        await set_replay_paused(replicated.replica_url, False)
        await until_health(database, checker, True)
        assert database.replicas.replicas[0].lag_seconds <= 0.5
        assert await read_user(database, user_id) == (True, False)


async def test_no_replica_configured_reads_from_the_primary(own_database: str) -> None:
    database = Database(make_settings(database_url=own_database))
    await database.open()
    try:
        assert set(database.pools()) == {"primary"}
        uow = database.unit_of_work()
        try:
            assert not await in_recovery(await uow.connection(replica_ok=True))
            assert uow.holds_connection
        finally:
            await uow.close()
    finally:
        await database.close()


async def test_lag_and_health_are_gauges_labelled_by_pool(replicated: Replicated) -> None:
    registry = CollectorRegistry()
    async with database_on(replicated, metrics=ReplicaMetrics(registry)):
        pool = {"pool": "replica-0"}
        assert registry.get_sample_value("db_replica_healthy", pool) == 1.0
        lag = registry.get_sample_value("db_replica_lag_seconds", pool)
        assert lag is not None and 0.0 <= lag < 5.0
