"""Read-your-writes across requests, through the whole app and a real streaming replica whose
replay the tests pause: where each /users/me read went is read off the app's metrics (the
router's count and the replica pool's acquires) and off the replica itself."""

from __future__ import annotations

import time

import asyncpg
import httpx
from fastapi import FastAPI
from jose import jwt

from app.core.tokens import WAL_POSITION_CLAIM
from app.db.database import Database
from tests.support.accounts import deactivate
from tests.support.http import client_for, live_app, login, register
from tests.support.polling import eventually
from tests.support.replication import (
    Replicated,
    primary_position,
    set_replay_paused,
    until_checked_caught_up,
    wait_for_replay,
)
from tests.support.settings import TEST_PASSWORD

CHECK_INTERVAL = 0.1


class Reads:
    """Where one request's replica-safe read went, from the app's own counters."""

    def __init__(self, application: FastAPI) -> None:
        self._registry = application.state.services.metrics.registry
        self._before = self._now()

    def _now(self) -> dict[str, float]:
        def value(name: str, labels: dict[str, str]) -> float:
            return self._registry.get_sample_value(name, labels) or 0.0

        routes = ("replica", "fallback_position", "fallback_lag")
        counts = {route: value("db_replica_reads_total", {"route": route}) for route in routes}
        counts["replica_acquires"] = value("db_pool_acquire_seconds_count", {"pool": "replica-0"})
        return counts

    def since(self) -> dict[str, float]:
        now = self._now()
        return {key: now[key] - self._before[key] for key in now}


async def me(application: FastAPI, http: httpx.AsyncClient, token: str) -> tuple[int, str]:
    """GET /users/me: its status, and which server answered."""
    reads = Reads(application)
    response = await http.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    moved = {key: count for key, count in reads.since().items() if count}
    if moved == {"replica": 1, "replica_acquires": 1}:
        return response.status_code, "replica"
    assert moved in ({"fallback_position": 1}, {"fallback_lag": 1}), moved
    return response.status_code, next(iter(moved))


async def users_on_replica(replicated: Replicated, email: str) -> int:
    replica = await asyncpg.connect(replicated.replica_url)
    try:
        count: int = await replica.fetchval("SELECT count(*) FROM users WHERE email = $1", email)
        return count
    finally:
        await replica.close()


async def test_a_new_user_reads_their_profile_at_once_while_replay_is_paused(
    replicated: Replicated,
) -> None:
    async with live_app(
        replicated.primary_url,
        database_replica_urls=replicated.replica_url,
        db_replica_max_lag_seconds=600,  # the replica stays "healthy": only position saves us
        db_replica_check_interval_seconds=CHECK_INTERVAL,
    ) as application:
        await set_replay_paused(replicated.replica_url, True)
        async with client_for(application) as http:
            await register(http)
            token = await login(http)
            assert await me(application, http, token) == (200, "fallback_position")
        assert await users_on_replica(replicated, "ada@example.com") == 0  # it would 401 there


async def test_a_fresh_session_reads_from_the_primary_until_the_replica_replays_it(
    replicated: Replicated,
) -> None:
    async with live_app(
        replicated.primary_url,
        database_replica_urls=replicated.replica_url,
        db_replica_max_lag_seconds=600,
        db_replica_check_interval_seconds=CHECK_INTERVAL,
    ) as application:
        database: Database = application.state.database
        async with client_for(application) as http:
            await register(http)
            await until_checked_caught_up(database, replicated.primary_url)
            await set_replay_paused(replicated.replica_url, True)
            token = await login(http)  # its last_login and refresh token: WAL not replayed
            assert await me(application, http, token) == (200, "fallback_position")
            assert await me(application, http, token) == (200, "fallback_position")

            await set_replay_paused(replicated.replica_url, False)
            await wait_for_replay(replicated.primary_url, replicated.replica_url)
            await until_checked_caught_up(database, replicated.primary_url)
            assert await me(application, http, token) == (200, "replica")


async def test_deactivation_reaches_replica_reads_within_the_lag_limit_while_paused(
    replicated: Replicated,
) -> None:
    max_lag = 1.0
    async with live_app(
        replicated.primary_url,
        database_replica_urls=replicated.replica_url,
        db_replica_max_lag_seconds=max_lag,
        db_replica_check_interval_seconds=CHECK_INTERVAL,
    ) as application:
        database: Database = application.state.database
        async with client_for(application) as http:
            await register(http)
            token = await login(http)
            await until_checked_caught_up(database, replicated.primary_url)
            assert await me(application, http, token) == (200, "replica")

            await set_replay_paused(replicated.replica_url, True)
            await deactivate(database, "ada@example.com")
            deactivated_at = time.monotonic()
            # The paused replica still has the user active, and still takes reads for now.
            assert await me(application, http, token) == (200, "replica")

            answers: list[tuple[int, str]] = []
            asked_at = deactivated_at

            async def refused() -> bool:
                nonlocal asked_at
                asked_at = time.monotonic()
                answers.append(await me(application, http, token))
                return answers[-1][0] != 200

            await eventually(refused)
            elapsed = asked_at - deactivated_at  # until the first read that saw it was asked
    # 403 while deactivation leaves sessions alive; 401 once it ends them (sessions work).
    assert answers[-1] in ((403, "fallback_lag"), (401, "fallback_lag"))
    assert {where for status, where in answers[:-1]} <= {"replica"}
    # The window docs/security.md states, plus scheduling slack on a shared machine.
    assert elapsed <= max_lag + CHECK_INTERVAL + 0.5, elapsed


async def test_login_and_refresh_carry_the_position_after_their_commit(
    replicated: Replicated,
) -> None:
    async with (
        live_app(
            replicated.primary_url, database_replica_urls=replicated.replica_url
        ) as application,
        client_for(application) as http,
    ):
        await register(http)
        before_login = await primary_position(replicated.primary_url)
        response = await http.post(
            "/api/v1/auth/login", json={"email": "ada@example.com", "password": TEST_PASSWORD}
        )
        at_login = jwt.get_unverified_claims(response.json()["access_token"])
        refreshed = await http.post(
            "/api/v1/auth/refresh", json={"refresh_token": response.json()["refresh_token"]}
        )
        at_refresh = jwt.get_unverified_claims(refreshed.json()["access_token"])
        after = await primary_position(replicated.primary_url)
    # Past the login's own WAL (its commit included), and moving on with each write.
    assert before_login < at_login[WAL_POSITION_CLAIM] < at_refresh[WAL_POSITION_CLAIM] <= after
