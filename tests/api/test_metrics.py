"""GET /metrics: the numbers move when (and only when) the service does the thing counted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.core.metrics import LOGIN_OUTCOMES
from tests.support.http import client_for, live_app, login, pool_of, register
from tests.support.metrics import scrape
from tests.support.settings import TEST_PASSWORD

POOL_GAUGES = ("db_pool_size", "db_pool_idle", "db_pool_in_use", "db_pool_max", "db_pool_waiting")


@pytest.fixture
async def served(own_database: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app with its real pool (max 2 connections), and a client on it."""
    async with (
        live_app(own_database, db_pool_max_size=2, db_acquire_timeout_seconds=0.3) as app,
        client_for(app) as http,
    ):
        yield app, http


async def test_metrics_exposes_every_family(
    served: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, http = served
    await http.get("/health")
    samples = await scrape(http)
    for gauge in POOL_GAUGES:
        assert samples.has(gauge), gauge
    assert samples.value("db_pool_max", pool="primary") == 2
    for name in (
        "db_pool_acquire_seconds_count",
        "db_pool_acquire_timeouts_total",
        "db_query_duration_seconds_count",
        "db_query_errors_total",
        "http_requests_total",
        "http_request_duration_seconds_count",
    ):
        assert f"# TYPE {name.rsplit('_', 1)[0]}" in samples.text, name
    for outcome in LOGIN_OUTCOMES:  # all exported from the start, "locked" included
        assert ("auth_logins_total", frozenset({("outcome", outcome)})) in samples.values


async def test_db_read_adds_one_observation_to_its_method_histogram(
    served: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, http = served
    await register(http)
    token = await login(http)
    before = await scrape(http)
    response = await http.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    after = await scrape(http)
    name = "db_query_duration_seconds_count"
    check = "sessions.user_of_live_session"  # the user and their session, one query
    assert after.value(name, operation=check) == before.value(name, operation=check) + 1
    assert after.value(name, operation="users.find_by_email") == before.value(
        name, operation="users.find_by_email"
    )
    assert "SELECT" not in after.text  # labelled by method, never by SQL text


async def test_health_request_leaves_every_pool_gauge_untouched(
    served: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, http = served
    before = await scrape(http)
    for _ in range(3):
        assert (await http.get("/health")).status_code == 200
    after = await scrape(http)
    for gauge in POOL_GAUGES:
        assert after.named(gauge) == before.named(gauge), gauge
    acquires = "db_pool_acquire_seconds_count"
    assert after.value(acquires, pool="primary") == before.value(acquires, pool="primary")


async def test_in_use_gauge_follows_a_held_connection(
    served: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, http = served
    uow = app.state.database.unit_of_work()
    await uow.users.find_by_email("nobody@example.com")
    held = await scrape(http)
    assert held.value("db_pool_in_use", pool="primary") == 1
    await uow.close()
    released = await scrape(http)
    assert released.value("db_pool_in_use", pool="primary") == 0
    assert released.value("db_connection_hold_seconds_count", pool="primary") == 1


async def test_forced_acquire_timeout_increments_the_timeout_counter(
    served: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, http = served
    pool = pool_of(app)
    held = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        before = await scrape(http)
        waiting = asyncio.create_task(http.get("/ready"))
        await asyncio.sleep(0.1)
        during = await scrape(http)
        response = await waiting
    finally:
        for connection in held:
            await pool.release(connection)
    after = await scrape(http)
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "ServiceUnavailableError"
    assert during.value("db_pool_waiting", pool="primary") == 1
    assert after.value("db_pool_waiting", pool="primary") == 0
    timeouts = "db_pool_acquire_timeouts_total"
    assert after.value(timeouts, pool="primary") == before.value(timeouts, pool="primary") + 1
    assert (
        after.value(
            "db_query_errors_total", operation="schema.revisions", error="DatabaseUnavailableError"
        )
        == 1
    )
    assert after.value("http_error_responses_total", type="ServiceUnavailableError") == 1


async def test_bad_password_increments_the_bad_credentials_count(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    before = await scrape(client)
    wrong = {"email": "ada@example.com", "password": TEST_PASSWORD + "!"}
    assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 401
    after = await scrape(client)
    logins = "auth_logins_total"
    assert after.value(logins, outcome="bad_credentials") == (
        before.value(logins, outcome="bad_credentials") + 1
    )
    assert after.value(logins, outcome="success") == before.value(logins, outcome="success")
    await login(client)
    assert (await scrape(client)).value(logins, outcome="success") == (
        before.value(logins, outcome="success") + 1
    )


async def test_http_metrics_use_the_route_template_and_envelope_type(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/api/v1/users/me")).status_code == 401
    assert (await client.get("/no/such/path/12345")).status_code == 404
    samples = await scrape(client)
    assert (
        samples.value("http_requests_total", method="GET", route="/api/v1/users/me", status="401")
        == 1
    )
    assert (
        samples.value("http_requests_total", method="GET", route="<unmatched>", status="404") == 1
    )
    assert "/no/such/path" not in samples.text  # raw paths never become labels
    assert samples.value("http_error_responses_total", type="AuthenticationError") == 1
    assert samples.value("http_error_responses_total", type="NotFoundError") == 1
    assert (
        samples.value("http_request_duration_seconds_count", method="GET", route="/api/v1/users/me")
        == 1
    )


async def test_query_errors_count_by_domain_error_type(
    served: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, http = served
    await register(http)
    duplicate = {"email": "ADA@example.com", "password": TEST_PASSWORD}
    assert (await http.post("/api/v1/users", json=duplicate)).status_code == 409
    samples = await scrape(http)
    assert (
        samples.value("db_query_errors_total", operation="users.create", error="ConflictError") == 1
    )
    assert samples.value("http_error_responses_total", type="ConflictError") == 1
