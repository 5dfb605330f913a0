"""Shared fixtures. The isolation model:

* one migrated template database per session;
* one connection holding an outer transaction for the whole session, and a SAVEPOINT per
  test that is rolled back afterwards (`conn`); the app under test gets that connection
  through its unit of work, so the app's own transactions become savepoints;
* tests that need real commits or several connections get a database of their own,
  copied from the template (`own_database`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.api.deps import get_uow
from app.core.passwords import PasswordHasher
from app.core.settings import Settings
from app.db.local import create_database, drop_database, free_port
from app.db.uow import UnitOfWork
from app.main import create_app
from tests.database import migrated_template, postgres_server, unique_name, with_database

TEST_PASSWORD = "correct horse battery"
TEST_ROUNDS = 4  # bcrypt's minimum: the suite is about behaviour, not hash strength


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
async def template_url(server_url: str) -> AsyncIterator[str]:
    """A migrated database nobody stays connected to, so it can be copied quickly."""
    async with migrated_template(server_url) as name:
        yield with_database(server_url, name)


async def _copy_of_template(server_url: str, template_url: str) -> str:
    name = unique_name("auth_test")
    await create_database(server_url, name, template=template_url.rpartition("/")[2])
    return with_database(server_url, name)


@pytest.fixture(scope="session")
async def session_connection(
    server_url: str, template_url: str
) -> AsyncIterator[asyncpg.Connection]:
    url = await _copy_of_template(server_url, template_url)
    connection = await asyncpg.connect(url)
    outer = connection.transaction()
    await outer.start()  # not execute("BEGIN"): asyncpg must know, to nest savepoints
    yield connection
    await outer.rollback()
    await connection.close()
    await drop_database(server_url, url.rpartition("/")[2])


@pytest.fixture
async def conn(session_connection: asyncpg.Connection) -> AsyncIterator[asyncpg.Connection]:
    """The shared connection inside a per-test SAVEPOINT, rolled back afterwards."""
    savepoint = session_connection.transaction()
    await savepoint.start()
    try:
        yield session_connection
    finally:
        await savepoint.rollback()


@pytest.fixture
async def own_database(server_url: str, template_url: str) -> AsyncIterator[str]:
    """A migrated database of this test's own, for real commits and many connections."""
    url = await _copy_of_template(server_url, template_url)
    yield url
    await drop_database(server_url, url.rpartition("/")[2])


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_env": "test",
        "database_url": "postgresql://unused@127.0.0.1:1/unused",
        "jwt_secret": "test-secret-that-is-long-enough-for-hs256-0123456789",
        "bcrypt_rounds": TEST_ROUNDS,
        "db_pool_min_size": 1,
        "db_pool_max_size": 4,
        "db_acquire_timeout_seconds": 2.0,
        "gc_tuning": False,  # a process that builds many apps must not freeze each one's objects
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def hasher() -> PasswordHasher:
    return PasswordHasher(rounds=TEST_ROUNDS)


@pytest.fixture
def uow(conn: asyncpg.Connection) -> UnitOfWork:
    return UnitOfWork.borrowing(conn)


@pytest.fixture
def app(settings: Settings, conn: asyncpg.Connection) -> FastAPI:
    """The real app, its unit of work on the test's savepointed connection."""
    application = create_app(settings)

    async def borrowed_uow() -> AsyncIterator[UnitOfWork]:
        yield UnitOfWork.borrowing(conn)

    application.dependency_overrides[get_uow] = borrowed_uow
    return application


def client_for(application: FastAPI) -> httpx.AsyncClient:
    # raise_app_exceptions=False: a 500 comes back as the client would see it.
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as http:
        yield http


@asynccontextmanager
async def live_app(database_url: str, **overrides: Any) -> AsyncIterator[FastAPI]:
    """The app with its real lifespan and pool on `database_url`."""
    application = create_app(make_settings(**{**overrides, "database_url": database_url}))
    async with LifespanManager(application):
        yield application


def pool_of(application: FastAPI) -> asyncpg.Pool:
    pool: asyncpg.Pool = application.state.database.pool
    return pool


async def register(
    http: httpx.AsyncClient,
    email: str = "ada@example.com",
    password: str = TEST_PASSWORD,
    **extra: Any,
) -> dict[str, Any]:
    response = await http.post(
        "/api/v1/users", json={"email": email, "password": password, **extra}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def login(
    http: httpx.AsyncClient, email: str = "ada@example.com", password: str = TEST_PASSWORD
) -> str:
    response = await http.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture
async def unreachable_pool() -> AsyncIterator[asyncpg.Pool]:
    """A real pool whose server is not there (a port nothing listens on)."""
    pool = asyncpg.create_pool(f"postgresql://postgres@127.0.0.1:{free_port()}/x", min_size=0)
    await pool
    yield pool
    await pool.close()
