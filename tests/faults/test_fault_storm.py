"""Hundreds of requests with every fault at once; afterwards nothing is leaked or half-done."""

from __future__ import annotations

import asyncio
import random
from typing import Literal

import httpx
import pytest
from fastapi import FastAPI

from app.api.deps import Uow
from tests.support.http import live_app, pool_of, serving
from tests.support.settings import TEST_PASSWORD

pytestmark = pytest.mark.slow

Mode = Literal["ok", "raise", "timeout", "slow"]
REQUESTS = 160  # 2.5 per concurrent slot: the pool still runs dry, every fault still happens
CONCURRENCY = 64


def add_storm_route(application: FastAPI) -> None:
    @application.post("/storm/{n}/{mode}")
    async def pair(n: int, mode: Mode, uow: Uow) -> dict[str, int]:
        """Writes two rows in one transaction with a fault between them."""
        async with uow.transaction():
            await uow.users.create(email=f"a{n}@storm.test", password_hash="x", full_name=None)
            connection = await uow.connection()
            if mode == "raise":
                raise RuntimeError("service fails mid-transaction")
            if mode == "timeout":  # longer than DB_STATEMENT_TIMEOUT_MS
                await connection.execute("SELECT pg_sleep(2)")
            if mode == "slow":  # the client gives up before this ends
                await connection.execute("SELECT pg_sleep(0.1)")
            await uow.users.create(email=f"b{n}@storm.test", password_hash="x", full_name=None)
        return {"n": n}


async def fire(
    client: httpx.AsyncClient, n: int, mode: Mode | Literal["register"]
) -> httpx.Response | None:
    try:
        if mode == "register":
            return await client.post(
                "/api/v1/users",
                json={"email": f"user{n % 50}@storm.test", "password": TEST_PASSWORD},
            )
        timeout = 0.03 if mode == "slow" else 10
        return await client.post(f"/storm/{n}/{mode}", timeout=timeout)
    except httpx.TimeoutException:
        return None  # the client disconnected mid-request, as intended


async def test_fault_storm_leaves_no_leak_and_no_half_written_row(own_database: str) -> None:
    storm = {
        "db_pool_min_size": 2,
        "db_pool_max_size": 4,
        "db_acquire_timeout_seconds": 0.5,
        "db_statement_timeout_ms": 150,
    }
    async with live_app(own_database, **storm) as application:
        add_storm_route(application)
        async with serving(application) as base_url:
            limits = httpx.Limits(max_connections=CONCURRENCY)
            async with httpx.AsyncClient(base_url=base_url, limits=limits) as client:
                modes: list[Mode | Literal["register"]] = [
                    "ok",
                    "raise",
                    "timeout",
                    "slow",
                    "register",
                ]
                rng = random.Random(8)
                plan = [(n, rng.choice(modes)) for n in range(REQUESTS)]
                responses = await asyncio.gather(*[fire(client, n, mode) for n, mode in plan])

            pool = pool_of(application)
            for _ in range(200):  # slow statements still running after their clients left
                if pool.get_idle_size() == pool.get_size():
                    break
                await asyncio.sleep(0.05)
            assert pool.get_idle_size() == pool.get_size()

            idle_in_tx = await pool.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%'"
            )
            assert idle_in_tx == 0
            half_written = await pool.fetchval(
                "SELECT count(*) FROM users a WHERE a.email LIKE 'a%@storm.test' AND NOT EXISTS "
                "(SELECT 1 FROM users b WHERE b.email = 'b' || substr(a.email, 2))"
            )
            assert half_written == 0
            registered = await pool.fetchval("SELECT count(*) FROM users WHERE email LIKE 'user%'")

    received = [r for r in responses if r is not None]
    statuses = {r.status_code for r in received}
    assert {200, 500, 503} <= statuses  # every fault really happened
    assert sum(r is None for r in responses) > 0  # and clients really disconnected
    for response in received:
        if response.status_code >= 400:
            error = response.json()["error"]
            assert set(error) >= {"message", "type", "statusCode", "requestId"}
            assert error["statusCode"] == response.status_code
            assert error["requestId"] == response.headers["X-Request-ID"]
    created = sum(r.status_code == 201 for r in received if r.request.url.path == "/api/v1/users")
    assert registered == created <= 50
