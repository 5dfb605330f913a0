"""The database monitor on a real pool: slow-query line and the connection leak watch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.core.logging import bind, bind_request, configure_logging
from app.core.metrics import Metrics
from app.db.database import Database
from tests.support.logs import captured_logs
from tests.support.settings import make_settings

EMAIL = "monitor@example.com"


@pytest.fixture
async def metrics() -> Metrics:
    return Metrics()


async def open_database(url: str, metrics: Metrics, **overrides: object) -> Database:
    settings = make_settings(database_url=url, log_format="json", **overrides)
    configure_logging(settings)
    database = Database(settings, metrics=metrics)
    await database.open()
    return database


@pytest.fixture
async def slow_db(own_database: str, metrics: Metrics) -> AsyncIterator[Database]:
    database = await open_database(own_database, metrics, db_slow_query_ms=50)
    yield database
    await database.close()


@pytest.fixture
async def watched_db(own_database: str, metrics: Metrics) -> AsyncIterator[Database]:
    database = await open_database(own_database, metrics, db_connection_hold_warn_seconds=0.1)
    yield database
    await database.close()


@pytest.mark.timing
async def test_slow_query_logs_one_line_with_method_duration_and_request_id(
    slow_db: Database, metrics: Metrics
) -> None:
    setup = slow_db.unit_of_work()
    async with setup.transaction():
        user = await setup.users.create(email=EMAIL, password_hash="x", full_name=None)
    await setup.close()

    # A row lock held elsewhere makes the update wait: slow for a known reason.
    blocker = await slow_db.pool.acquire()
    lock = blocker.transaction()
    await lock.start()
    await blocker.execute("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", user.id)
    bind_request("req-slow-1")
    uow = slow_db.unit_of_work()
    with captured_logs() as logs:
        update = asyncio.create_task(uow.users.set_active(user.id, False))
        await asyncio.sleep(0.2)
        await lock.rollback()
        await update
        await uow.close()
        await uow_read(slow_db)  # a fast query: no line
    await slow_db.pool.release(blocker)

    [line] = logs.events("slow query")
    assert line["operation"] == "users.set_active"
    assert line["duration_ms"] >= 150
    assert line["request_id"] == "req-slow-1"
    assert line["level"] == "warning"
    assert str(user.id) not in logs.text and EMAIL not in logs.text  # no parameters
    assert sample(metrics, "db_slow_queries_total", operation="users.set_active") == 1


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def uow_read(database: Database) -> None:
    uow = database.unit_of_work()
    await uow.users.find_by_email(EMAIL)
    await uow.close()


@pytest.mark.timing
async def test_connection_held_too_long_is_logged_once_and_counted(
    watched_db: Database, metrics: Metrics
) -> None:
    bind_request("req-hold-1")
    bind(route="/api/v1/users/me")
    uow = watched_db.unit_of_work()
    with captured_logs() as logs:
        await uow.users.find_by_email(EMAIL)
        await asyncio.sleep(0.4)  # four times the threshold: still one line
        await uow.close()
    [line] = logs.events("connection held too long")
    assert line["request_id"] == "req-hold-1"
    assert line["route"] == "/api/v1/users/me"
    assert line["pool"] == "primary"
    assert sample(metrics, "db_connection_hold_warnings_total", pool="primary") == 1
    assert sample(metrics, "db_connection_hold_seconds_sum", pool="primary") >= 0.4


@pytest.mark.timing
async def test_connection_released_in_time_is_not_reported(
    watched_db: Database, metrics: Metrics
) -> None:
    with captured_logs() as logs:
        await uow_read(watched_db)
        await asyncio.sleep(0.2)  # past the threshold, after the release
    assert logs.events("connection held too long") == []
    assert sample(metrics, "db_connection_hold_warnings_total", pool="primary") == 0
