"""/health never touches the database; /ready names the check that failed."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command

from app.db.local import free_port
from app.db.schema_head import migration_heads
from app.db.uow import UnitOfWork
from app.services.readiness import DATABASE_DOWN, SCHEMA_BEHIND
from tests.support.database import alembic_config
from tests.support.http import client_for, live_app
from tests.support.metrics import scrape


@pytest.fixture
async def database_behind(own_database: str) -> str:
    """One revision behind the head: this code deployed before its migration ran."""
    await asyncio.to_thread(command.downgrade, alembic_config(own_database), "-1")
    return own_database


async def test_a_migrated_database_is_at_the_head_read_from_the_scripts(uow: UnitOfWork) -> None:
    heads = migration_heads()
    assert heads
    assert await uow.schema.revisions() == heads


async def test_ready_when_the_database_answers_at_the_head(own_database: str) -> None:
    async with live_app(own_database) as app, client_for(app) as http:
        response = await http.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_not_ready_when_the_schema_is_behind_the_head(database_behind: str) -> None:
    async with live_app(database_behind) as app, client_for(app) as http:
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
