"""Replicas through the whole app: its lifespan opens the pools and runs the health checks."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from prometheus_client import generate_latest

from app.db.database import Database
from app.db.local import free_port
from tests.support.accounts import deactivate
from tests.support.http import client_for, live_app, login, register
from tests.support.polling import eventually
from tests.support.replication import (
    Replicated,
    set_replay_paused,
    until_checked_caught_up,
    wait_for_replay,
)

pytestmark = pytest.mark.cluster


def metrics_text(application: FastAPI) -> str:
    return generate_latest(application.state.services.metrics.registry).decode()


async def until_metric(application: FastAPI, line: str) -> None:
    async def shown() -> bool:
        return line in metrics_text(application)

    await eventually(shown)


async def test_users_me_is_served_by_the_replica(replicated: Replicated) -> None:
    async with live_app(
        replicated.primary_url,
        database_replica_urls=replicated.replica_url,
        db_replica_max_lag_seconds=600,  # this test lags on purpose
    ) as application:
        database: Database = application.state.database
        assert set(database.pools()) == {"primary", "replica-0"}
        async with client_for(application) as http:
            await register(http)
            headers = {"Authorization": f"Bearer {await login(http)}"}
            await until_checked_caught_up(database, replicated.primary_url)

            await set_replay_paused(replicated.replica_url, True)
            await deactivate(database, "ada@example.com")
            # Only the paused replica still has the user active: a 200 proves who answered.
            assert (await http.get("/api/v1/users/me", headers=headers)).status_code == 200

            await set_replay_paused(replicated.replica_url, False)
            await wait_for_replay(replicated.primary_url, replicated.replica_url)
            assert (await http.get("/api/v1/users/me", headers=headers)).status_code == 401


async def test_lifespan_checks_replicas_and_exports_lag(replicated: Replicated) -> None:
    async with live_app(
        replicated.primary_url,
        database_replica_urls=replicated.replica_url,
        db_replica_check_interval_seconds=0.05,
    ) as application:
        # The first check runs before the app serves: the replica takes reads from the start.
        assert application.state.database.replicas.replicas[0].healthy
        assert 'db_replica_healthy{pool="replica-0"} 1.0' in metrics_text(application)
        replicated.replica.stop("fast")
        try:
            await until_metric(application, 'db_replica_healthy{pool="replica-0"} 0.0')
            assert 'db_replica_lag_seconds{pool="replica-0"} NaN' in metrics_text(application)
        finally:
            replicated.replica.start()
        await until_metric(application, 'db_replica_healthy{pool="replica-0"} 1.0')


async def test_an_unreachable_replica_neither_stops_start_up_nor_fails_reads(
    own_database: str,
) -> None:
    async with live_app(
        own_database, database_replica_urls=f"postgresql://postgres@127.0.0.1:{free_port()}/x"
    ) as application:
        assert not application.state.database.replicas.replicas[0].healthy
        async with client_for(application) as http:
            await register(http)
            headers = {"Authorization": f"Bearer {await login(http)}"}
            response = await http.get("/api/v1/users/me", headers=headers)
        assert response.status_code == 200
        assert response.json()["email"] == "ada@example.com"
