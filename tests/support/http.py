"""Talking to the app under test: in process (ASGI), or served by uvicorn on a free port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import uvicorn
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.api.deps import get_uow_opener
from app.core.settings import Settings
from app.db.local import free_port
from app.db.uow import UnitOfWork
from app.main import create_app
from tests.support.settings import TEST_PASSWORD, make_settings

USER_FIELDS = {  # a user's JSON
    "id",
    "email",
    "full_name",
    "is_active",
    "email_verified",
    "is_admin",
    "created_at",
    "last_login",
}


def client_for(application: FastAPI) -> httpx.AsyncClient:
    # raise_app_exceptions=False: a 500 comes back as the client would see it.
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def borrowing_app(settings: Settings, conn: asyncpg.Connection) -> FastAPI:
    """The real app, its unit of work on the test's savepointed connection."""
    application = create_app(settings)

    async def borrowed_uow() -> Callable[[], UnitOfWork]:
        return lambda: UnitOfWork.borrowing(conn)

    application.dependency_overrides[get_uow_opener] = borrowed_uow
    return application


@asynccontextmanager
async def live_app(database_url: str, **overrides: Any) -> AsyncIterator[FastAPI]:
    """The app with its real lifespan and pool on `database_url`."""
    application = create_app(make_settings(**{**overrides, "database_url": database_url}))
    async with LifespanManager(application):
        yield application


@asynccontextmanager
async def serving(application: FastAPI) -> AsyncIterator[str]:
    """Serve `application` (lifespan included) with uvicorn in this process; yield its URL.
    For what needs real sockets: client disconnects, a browser."""
    port = free_port()
    config = uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # start-up failed: raise its error
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


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


def assert_envelope(response: httpx.Response, status: int, type_: str) -> dict[str, object]:
    """`response` is the error envelope with this status and type, tied to its request id."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] == type_ and error["statusCode"] == status
    assert error["requestId"] == response.headers["X-Request-ID"]
    assert isinstance(error["message"], str) and error["message"]
    return dict(error)
