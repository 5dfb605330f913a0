"""Brute-force protection: lockouts per account and per address, held in PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.core.settings import Settings
from tests.support.http import live_app, register
from tests.support.lockout import (
    MAX_FAILURES,
    MAX_PER_ADDRESS,
    WINDOW,
    attempt,
    client_from,
    shape,
)
from tests.support.settings import TEST_PASSWORD, make_settings


@pytest.fixture
def settings(request: pytest.FixtureRequest) -> Settings:
    overrides: dict[str, Any] = {
        "login_max_failures": MAX_FAILURES,
        "login_max_failures_per_address": MAX_PER_ADDRESS,
        "login_failure_window_seconds": WINDOW,
        **getattr(request, "param", {}),
    }
    return make_settings(**overrides)


async def test_lockout_after_max_failures_with_retry_after(client: httpx.AsyncClient) -> None:
    await register(client)
    for _ in range(MAX_FAILURES):
        assert (await attempt(client)).status_code == 401
    locked = await attempt(client)
    assert locked.status_code == 429
    assert locked.json()["error"]["type"] == "RateLimitError"
    assert 0 < int(locked.headers["retry-after"]) <= WINDOW
    # The right password does not get through a lockout either.
    assert (await attempt(client, password=TEST_PASSWORD)).status_code == 429


async def test_unknown_email_is_counted_and_locked_like_a_real_account(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    real = [await attempt(client) for _ in range(MAX_FAILURES + 1)]
    unknown = [await attempt(client, email="nobody@example.com") for _ in range(MAX_FAILURES + 1)]
    assert [shape(r) for r in real] == [shape(r) for r in unknown]
    assert [r.status_code for r in unknown] == [401] * MAX_FAILURES + [429]
    assert real[-1].headers["retry-after"] == unknown[-1].headers["retry-after"]


async def test_success_resets_the_account_counter(client: httpx.AsyncClient) -> None:
    await register(client)
    for _ in range(MAX_FAILURES - 1):
        assert (await attempt(client)).status_code == 401
    assert (await attempt(client, password=TEST_PASSWORD)).status_code == 200
    statuses = [(await attempt(client)).status_code for _ in range(MAX_FAILURES + 1)]
    assert statuses == [401] * MAX_FAILURES + [429]


async def test_case_and_spacing_variants_share_one_counter(client: httpx.AsyncClient) -> None:
    await register(client)
    variants = ["ada@example.com", "ADA@Example.com", "  Ada@example.COM "]
    assert [(await attempt(client, email=v)).status_code for v in variants] == [401] * 3
    assert (await attempt(client, email="aDa@EXAMPLE.com")).status_code == 429


async def test_address_is_limited_across_accounts_with_a_higher_threshold(app: FastAPI) -> None:
    async with (
        client_from(app, "203.0.113.7") as attacker,
        client_from(app, "198.51.100.1") as other,
    ):
        await register(other)
        for n in range(MAX_PER_ADDRESS):  # one failure per email: no account reaches its limit
            assert (await attempt(attacker, email=f"user{n}@example.com")).status_code == 401
        locked = await attempt(attacker, email="fresh@example.com")
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) > 0
        # The account itself is fine from elsewhere.
        assert (await attempt(other, password=TEST_PASSWORD)).status_code == 200


async def test_success_does_not_reset_the_address_counter(app: FastAPI) -> None:
    async with client_from(app, "203.0.113.8") as http:
        await register(http)
        for n in range(MAX_PER_ADDRESS - 1):
            await attempt(http, email=f"user{n}@example.com")
        assert (await attempt(http, password=TEST_PASSWORD)).status_code == 200
        assert (await attempt(http, email="another@example.com")).status_code == 401
        assert (await attempt(http, email="yet-another@example.com")).status_code == 429


@pytest.mark.slow
@pytest.mark.parametrize("settings", [{"login_failure_window_seconds": 1}], indirect=True)
async def test_lockout_lifts_when_the_window_passes(client: httpx.AsyncClient) -> None:
    await register(client)
    for _ in range(MAX_FAILURES):
        await attempt(client)
    locked = await attempt(client, password=TEST_PASSWORD)
    assert locked.status_code == 429
    retry_after = int(locked.headers["retry-after"])
    assert retry_after == 1  # whole seconds, rounded up: never 0 while still locked
    await asyncio.sleep(retry_after + 0.05)
    assert (await attempt(client, password=TEST_PASSWORD)).status_code == 200


async def test_every_attempt_is_recorded_without_the_password(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    user = await register(client)
    await attempt(client, password="first wrong guess")
    await attempt(client, email="Nobody@Example.com", password="second wrong guess")
    await attempt(client, password=TEST_PASSWORD)
    rows = await conn.fetch(
        "SELECT email_key, user_id::text, client_address, outcome, attempted_at, t::text AS raw "
        "FROM login_attempts t ORDER BY id"
    )
    assert [(r["email_key"], r["user_id"], r["outcome"]) for r in rows] == [
        ("ada@example.com", user["id"], "bad_credentials"),
        ("nobody@example.com", None, "bad_credentials"),
        ("ada@example.com", user["id"], "success"),
    ]
    assert {r["client_address"] for r in rows} == {"127.0.0.1"}
    assert all(r["attempted_at"] is not None for r in rows)
    for secret in ("first wrong guess", "second wrong guess", TEST_PASSWORD):
        assert not any(secret in r["raw"] for r in rows)


async def test_concurrent_guesses_get_no_more_than_the_limit_through(own_database: str) -> None:
    async with (
        live_app(own_database, login_max_failures=MAX_FAILURES) as app,
        client_from(app, "192.0.2.10") as http,
    ):
        await register(http)
        responses = await asyncio.gather(*(attempt(http) for _ in range(12)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(401) <= MAX_FAILURES
    assert statuses.count(429) >= 12 - MAX_FAILURES


async def test_lockout_is_shared_by_every_instance(own_database: str) -> None:
    """Two apps with their own pools stand in for two workers or hosts."""
    async with (
        live_app(own_database, login_max_failures=MAX_FAILURES) as first,
        live_app(own_database, login_max_failures=MAX_FAILURES) as second,
        client_from(first, "192.0.2.20") as one,
        client_from(second, "192.0.2.21") as two,
    ):
        await register(one)
        for _ in range(MAX_FAILURES):
            assert (await attempt(one)).status_code == 401
        assert (await attempt(two, password=TEST_PASSWORD)).status_code == 429


async def test_database_outage_during_login_is_503_not_401(
    app: FastAPI, unreachable_pool: asyncpg.Pool
) -> None:
    from app.api.deps import get_uow
    from app.db.uow import UnitOfWork

    async def broken_uow() -> Any:
        yield UnitOfWork(unreachable_pool, acquire_timeout=0.5)

    app.dependency_overrides[get_uow] = broken_uow
    async with client_from(app, "192.0.2.30") as http:
        response = await attempt(http)
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "ServiceUnavailableError"
