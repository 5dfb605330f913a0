"""The app behind a real PgBouncer in transaction pooling mode (DATABASE_POOLER=pgbouncer),
with a server pool smaller than the app's pool: consecutive transactions of one client
connection land on different server connections, so any session state or prepared
statement that outlived its transaction would break something here."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.core.errors import DatabaseUnavailableError
from app.core.logging import configure_logging
from app.db.database import Database
from tests.support.http import client_for, live_app, login, pool_of, register
from tests.support.logs import captured_logs
from tests.support.pgbouncer import SERVER_POOL_SIZE, pgbouncer, pgbouncer_missing
from tests.support.replication import Replicated, until_checked_caught_up
from tests.support.settings import TEST_PASSWORD, make_settings

USERS = 12
NEW_PASSWORD = "a brand new passphrase"


async def story(http: httpx.AsyncClient, n: int) -> list[tuple[str, int, str]]:
    """One user's life: register, log in, me, refresh, me, change password, log in, log out.
    Returns (step, status, body) of every answer."""
    email, answers = f"user{n}@example.com", []

    async def step(name: str, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await http.request(method, path, headers=headers, **kw)
        answers.append((name, response.status_code, response.text))
        return response.json() if response.content else None

    await step(
        "register", "POST", "/api/v1/users", json={"email": email, "password": TEST_PASSWORD}
    )
    pair = await step(
        "login", "POST", "/api/v1/auth/login", json={"email": email, "password": TEST_PASSWORD}
    )
    await step("me", "GET", "/api/v1/users/me", pair["access_token"])
    pair = await step(
        "refresh", "POST", "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    await step("me again", "GET", "/api/v1/users/me", pair["access_token"])
    await step(
        "password",
        "POST",
        "/api/v1/users/me/password",
        pair["access_token"],
        json={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
    )
    pair = await step(
        "login anew", "POST", "/api/v1/auth/login", json={"email": email, "password": NEW_PASSWORD}
    )
    await step(
        "logout",
        "POST",
        "/api/v1/auth/logout",
        pair["access_token"],
        json={"refresh_token": pair["refresh_token"]},
    )
    return answers


EXPECTED = [
    ("register", 201),
    ("login", 200),
    ("me", 200),
    ("refresh", 200),
    ("me again", 200),
    ("password", 204),
    ("login anew", 200),
    ("logout", 204),
]


async def server_backends(own_database: str) -> list[str | None]:
    """The states of the server connections on the test's database, PgBouncer's included."""
    server = await asyncpg.connect(own_database)
    try:
        rows = await server.fetch(
            "SELECT state FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        return [row["state"] for row in rows]
    finally:
        await server.close()


async def test_user_stories_run_concurrently_through_pgbouncer(
    bounced_database: str, own_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        live_app(bounced_database, database_pooler="pgbouncer") as application,
        client_for(application) as http,
    ):
        stories = await asyncio.gather(*(story(http, n) for n in range(USERS)))
        # The app's pool opened more client connections than PgBouncer has server ones:
        # transactions of one pool connection took turns on the few server connections.
        assert pool_of(application).get_size() > SERVER_POOL_SIZE
        assert len(await server_backends(own_database)) <= SERVER_POOL_SIZE
    for answers in stories:
        assert [(name, status) for name, status, _ in answers] == EXPECTED, answers
    assert "prepared statement" not in caplog.text
    states = await server_backends(own_database)
    assert not [s for s in states if (s or "").startswith("idle in transaction")], states


async def test_without_the_setting_pgbouncer_refuses_the_pool(bounced_database: str) -> None:
    # What DATABASE_POOLER=pgbouncer exists for: the timeouts as start-up parameters.
    database = Database(make_settings(database_url=bounced_database))
    with pytest.raises(asyncpg.ProtocolViolationError, match="unsupported startup parameter"):
        await database.open()


async def open_database(url: str, **overrides: Any) -> Database:
    database = Database(make_settings(database_url=url, database_pooler="pgbouncer", **overrides))
    await database.open()
    return database


async def test_a_transaction_gets_the_statement_timeout_through_pgbouncer(
    bounced_database: str,
) -> None:
    database = await open_database(bounced_database, db_statement_timeout_ms=200)
    try:
        uow = database.unit_of_work()
        try:
            with pytest.raises(DatabaseUnavailableError) as raised:
                async with uow.transaction():
                    await (await uow.connection()).execute("SELECT pg_sleep(3)")
            assert isinstance(raised.value.__cause__, asyncpg.QueryCanceledError)
            async with uow.transaction():
                connection = await uow.connection()
                assert await connection.fetchval("SHOW statement_timeout") == "200ms"
                assert await connection.fetchval("SHOW idle_in_transaction_session_timeout") == (
                    "10s"
                )
            # SET LOCAL ended with its transaction: nothing is left on the server connection.
            assert await connection.fetchval("SHOW statement_timeout") == "0"
        finally:
            await uow.close()
    finally:
        await database.close()


NO_ROLE_TIMEOUT = "no statement_timeout on the database role behind PgBouncer"


async def test_a_statement_outside_a_transaction_gets_the_role_setting(
    bounced_database: str, own_database: str
) -> None:
    # What docs/scaling.md tells the operator to set on the role PgBouncer logs in as
    # (here only for the test's own database, before PgBouncer opens a server connection).
    server = await asyncpg.connect(own_database)
    try:
        await server.execute(
            "ALTER ROLE CURRENT_USER IN DATABASE "
            f'"{own_database.rpartition("/")[2]}" SET statement_timeout = 200'
        )
    finally:
        await server.close()
    configure_logging(make_settings())  # installs the handler captured_logs() redirects
    with captured_logs() as logs:
        database = await open_database(bounced_database)
    assert NO_ROLE_TIMEOUT not in logs.text
    try:
        uow = database.unit_of_work()
        try:
            with pytest.raises(asyncpg.QueryCanceledError):
                await (await uow.connection()).execute("SELECT pg_sleep(3)")
        finally:
            await uow.close()
    finally:
        await database.close()


async def test_a_session_is_never_left_idle_in_transaction(
    bounced_database: str, own_database: str
) -> None:
    database = await open_database(bounced_database)
    try:

        async def fails_inside_a_transaction() -> None:
            uow = database.unit_of_work()
            try:
                async with uow.transaction():
                    await (await uow.connection()).execute("SELECT 1")
                    raise RuntimeError("the request fails mid-transaction")
            finally:
                await uow.close()

        results = await asyncio.gather(
            *(fails_inside_a_transaction() for _ in range(8)), return_exceptions=True
        )
        assert all(isinstance(result, RuntimeError) for result in results)
        # A backend PgBouncer is still opening has no state yet (NULL): no session, so no
        # transaction either; every one that has a session must be idle.
        states = [state for state in await server_backends(own_database) if state is not None]
        assert states and all(state == "idle" for state in states), states
    finally:
        await database.close()


def served_by(application: FastAPI) -> dict[str, float]:
    registry = application.state.services.metrics.registry
    return {
        pool: registry.get_sample_value("db_pool_acquire_seconds_count", {"pool": pool}) or 0.0
        for pool in ("primary", "replica-0")
    }


async def test_replica_pools_and_health_checks_go_through_pgbouncer_too(
    replicated: Replicated,
) -> None:
    if (reason := pgbouncer_missing()) is not None:
        pytest.skip(reason)
    with pgbouncer({"primary": replicated.primary_url, "replica": replicated.replica_url}) as pgb:
        async with (
            live_app(
                pgb.url("primary"),
                database_pooler="pgbouncer",
                database_replica_urls=pgb.url("replica"),
                db_replica_check_interval_seconds=0.1,
            ) as application,
            client_for(application) as http,
        ):
            await register(http)
            headers = {"Authorization": f"Bearer {await login(http)}"}
            await until_checked_caught_up(application.state.database, replicated.primary_url)
            before = served_by(application)
            response = await http.get("/api/v1/users/me", headers=headers)
            after = served_by(application)
    assert response.status_code == 200
    assert (after["primary"] - before["primary"], after["replica-0"] - before["replica-0"]) == (
        0,
        1,
    )


async def test_start_up_warns_when_the_role_has_no_statement_timeout(
    bounced_database: str,
) -> None:
    configure_logging(make_settings())  # installs the handler captured_logs() redirects
    with captured_logs() as logs:
        database = await open_database(bounced_database)
    await database.close()
    assert NO_ROLE_TIMEOUT in logs.text
