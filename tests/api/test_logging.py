"""Structured logs, captured from the real handler: request id on every line, one access
line per request, the user id once known, and never a password, token or Authorization."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.api.deps import Uow
from app.core.logging import app_handler
from app.core.settings import Settings
from tests.support.http import client_for, live_app, login, register
from tests.support.logs import Captured, captured_logs
from tests.support.settings import TEST_PASSWORD, make_settings

WRONG_PASSWORD = "wrong-horse-battery-7f3a"
SHORT_PASSWORD = "tiny-7f"  # fails validation: must not be echoed in the 422 or in a log
NEW_LOCAL = "local-secret-password-9c2e"


@pytest.fixture
def settings(request: pytest.FixtureRequest) -> Settings:
    return make_settings(log_format=getattr(request, "param", "json"), log_level="DEBUG")


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    """The suite's app plus a route that fails with a password in a local variable."""

    @app.post("/boom")
    async def boom() -> None:
        password = NEW_LOCAL  # a traceback that showed locals would leak it
        raise RuntimeError(f"boom after checking a {len(password)}-character password")

    return app


@pytest.fixture
async def logs(client: httpx.AsyncClient) -> AsyncIterator[Captured]:
    with captured_logs() as captured:
        yield captured


@pytest.mark.parametrize("settings", ["json", "console"], indirect=True)
async def test_secrets_never_reach_a_log_line(client: httpx.AsyncClient, logs: Captured) -> None:
    await register(client)
    token = await login(client)
    bearer = {"Authorization": f"Bearer {token}"}
    wrong = {"email": "ada@example.com", "password": WRONG_PASSWORD}
    assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 401
    form = {"username": "ada@example.com", "password": WRONG_PASSWORD}
    assert (await client.post("/api/v1/auth/token", data=form)).status_code == 401
    short = {"email": "bob@example.com", "password": SHORT_PASSWORD}
    assert (await client.post("/api/v1/users", json=short)).status_code == 422
    assert (await client.get("/api/v1/users/me", headers=bearer)).status_code == 200
    bad_token = {"Authorization": f"Bearer {token}x"}
    assert (await client.get("/api/v1/users/me", headers=bad_token)).status_code == 401
    boom = await client.post("/boom", headers=bearer, json={"password": TEST_PASSWORD})
    assert boom.status_code == 500

    text = logs.text
    assert "RuntimeError" in text  # the traceback was logged...
    for secret in (TEST_PASSWORD, WRONG_PASSWORD, SHORT_PASSWORD, NEW_LOCAL, token):
        assert secret not in text, secret  # ...without locals, bodies or credentials
    assert token.split(".")[1] not in text  # not even the JWT's payload part
    assert re.search(r"(?i)bearer\s+ey", text) is None
    assert "authorization" not in text.lower()


async def test_one_access_line_per_request_and_request_id_on_every_line(
    client: httpx.AsyncClient, logs: Captured
) -> None:
    await register(client)
    token = await login(client)
    for request_id in ("req-a-1", "req-b-2"):
        response = await client.get(
            "/api/v1/users/me",
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": request_id},
        )
        assert response.status_code == 200
    await client.post("/boom", headers={"X-Request-ID": "req-c-3"})

    lines = logs.lines()
    assert all("request_id" in line for line in lines), lines
    access = [line for line in lines if line["logger"] == "app.access"]
    for request_id in ("req-a-1", "req-b-2"):
        [line] = [a for a in access if a["request_id"] == request_id]
        assert line["method"] == "GET"
        assert line["route"] == "/api/v1/users/me"
        assert line["status"] == 200
        assert isinstance(line["duration_ms"], float)
        assert line["user_id"]  # known once the token named the user
    [failed] = [a for a in access if a["request_id"] == "req-c-3"]
    assert failed["status"] == 500
    assert "user_id" not in failed
    errors = [line for line in lines if line["level"] == "error"]
    assert errors and all(line["request_id"] == "req-c-3" for line in errors)


@pytest.mark.timing
async def test_connection_hold_warning_names_the_request_and_route(own_database: str) -> None:
    """A request that keeps its connection past the threshold is named in one warning."""
    async with (
        live_app(own_database, log_format="json", db_connection_hold_warn_seconds=0.05) as app,
        client_for(app) as http,
    ):

        @app.get("/probe/hold/{seconds}")
        async def hold(seconds: float, uow: Uow) -> dict[str, bool]:
            await (await uow.connection()).execute("SELECT pg_sleep($1)", seconds)
            return {"held": True}

        with captured_logs() as logs:
            response = await http.get("/probe/hold/0.3", headers={"X-Request-ID": "req-hold"})
    assert response.status_code == 200
    [line] = logs.events("connection held too long")
    assert line["request_id"] == "req-hold"
    assert line["route"] == "/probe/hold/{seconds}"
    assert line["pool"] == "primary"


ACCESS_FIELDS = {
    "event",
    "method",
    "route",
    "path",
    "status",
    "duration_ms",
    "request_id",
    "user_id",
    "level",
    "logger",
    "timestamp",
}


class _AccessRecords(logging.Filter):
    """Counts access records reaching the standard-library handler."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        self.count += record.name == "app.access"
        return True


async def test_the_json_access_line_skips_the_stdlib_chain_and_keeps_its_fields(
    client: httpx.AsyncClient, logs: Captured
) -> None:
    await register(client)
    token = await login(client)
    handler = app_handler()
    assert handler is not None
    records = _AccessRecords()
    handler.addFilter(records)
    try:
        response = await client.get(
            "/api/v1/users/me?x=1",
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-fields-1"},
        )
    finally:
        handler.removeFilter(records)
    assert response.status_code == 200

    [line] = [a for a in logs.events("request") if a["request_id"] == "req-fields-1"]
    assert set(line) == ACCESS_FIELDS
    assert line["logger"] == "app.access" and line["level"] == "info"
    assert line["path"] == "/api/v1/users/me"  # the path, never the query string
    assert line["timestamp"].endswith("Z")
    assert records.count == 0  # written straight to the stream, no LogRecord


async def test_the_access_line_follows_the_log_level(own_database: str) -> None:
    async with live_app(own_database, log_format="json", log_level="WARNING") as quiet:
        with captured_logs() as captured:
            async with client_for(quiet) as client:
                assert (await client.get("/health")).status_code == 200
    assert captured.events("request") == []
