"""/health never touches the database; /ready names the check that failed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.db.local import create_database, drop_database, free_port
from app.db.schema_head import migration_heads
from app.db.uow import UnitOfWork
from app.services.readiness import DATABASE_DOWN, SCHEMA_BEHIND
from tests.conftest import client_for, live_app
from tests.database import unique_name, with_database
from tests.metrics import scrape


@pytest.fixture
async def unmigrated_database(server_url: str) -> AsyncIterator[str]:
    """A database nobody ran the migrations on (the app deployed before `db upgrade`)."""
    name = unique_name("auth_unmigrated")
    await create_database(server_url, name)
    yield with_database(server_url, name)
    await drop_database(server_url, name)


async def test_a_migrated_database_is_at_the_head_read_from_the_scripts(uow: UnitOfWork) -> None:
    heads = migration_heads()
    assert heads
    assert await uow.schema.revisions() == heads


async def test_ready_when_the_database_answers_at_the_head(own_database: str) -> None:
    async with live_app(own_database) as app, client_for(app) as http:
        response = await http.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_not_ready_when_the_schema_is_behind_the_head(unmigrated_database: str) -> None:
    async with live_app(unmigrated_database) as app, client_for(app) as http:
        response = await http.get("/ready")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["type"] == "ServiceUnavailableError"
    assert error["message"] == SCHEMA_BEHIND
    assert "Retry-After" in response.headers


# min_size=0: the pool opens without connecting, as a process whose database went away.
async def test_not_ready_when_the_database_does_not_answer() -> None:
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    async with live_app(nowhere, db_pool_min_size=0) as app, client_for(app) as http:
        response = await http.get("/ready")
    assert response.status_code == 503
    assert response.json()["error"]["message"] == DATABASE_DOWN


async def test_health_never_touches_the_database() -> None:
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    async with live_app(nowhere, db_pool_min_size=0) as app, client_for(app) as http:
        response = await http.get("/health")
        samples = await scrape(http)
    assert response.status_code == 200
    assert samples.value("db_pool_acquire_seconds_count", pool="primary") == 0
    assert samples.value("db_pool_size", pool="primary") == 0
