"""The app with its real pool: connections are acquired lazily and always come back."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from fastapi import FastAPI

from app.api.deps import CurrentUser, CurrentUserOnly, Uow
from app.db.local import free_port
from tests.support.http import assert_envelope, client_for, live_app, login, pool_of, register
from tests.support.settings import TEST_PASSWORD

IDLE_IN_TRANSACTION = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND application_name = 'auth-service' AND state LIKE 'idle in transaction%'"
)


def all_idle(application: FastAPI) -> bool:
    pool = pool_of(application)
    return bool(pool.get_idle_size() == pool.get_size())


def add_probe_routes(application: FastAPI, seen: dict[str, object]) -> None:
    @application.get("/probe/unused")
    async def unused(uow: Uow) -> dict[str, bool]:
        seen["held_during_request"] = uow.holds_connection
        return {"ok": True}

    @application.get("/probe/crash")
    async def crash(uow: Uow) -> None:
        async with uow.transaction():
            await uow.users.find_by_email("x@example.com")
            raise RuntimeError("fails mid-transaction")

    @application.get("/probe/slow")
    async def slow(uow: Uow) -> None:
        async with uow.transaction():
            await uow.users.create(email="slow@example.com", password_hash="x", full_name=None)
            started = seen["slow_started"]
            assert isinstance(started, asyncio.Event)
            started.set()
            await (await uow.connection()).execute("SELECT pg_sleep(10)")


async def test_db_free_request_acquires_nothing(own_database: str) -> None:
    seen: dict[str, object] = {}
    async with live_app(own_database) as application:
        add_probe_routes(application, seen)
        pool = pool_of(application)
        size_before = pool.get_size()
        async with client_for(application) as client:
            assert (await client.get("/health")).json() == {"status": "ok"}
            assert (await client.get("/probe/unused")).status_code == 200
        assert seen["held_during_request"] is False
        assert pool.get_size() == size_before and all_idle(application)


async def test_user_only_route_runs_with_its_connection_back_in_the_pool(
    own_database: str,
) -> None:
    """GET /users/me's dependency (CurrentUserOnly) gives the connection back once the
    session check has its answer; CurrentUser with Uow keeps it for the route's own work."""
    seen: dict[str, bool] = {}
    async with live_app(own_database) as application, client_for(application) as client:

        @application.get("/probe/user-only")
        async def user_only(user: CurrentUserOnly) -> dict[str, bool]:
            seen["user_only"] = all_idle(application)
            return {"ok": True}

        @application.get("/probe/user-and-uow")
        async def user_and_uow(user: CurrentUser, uow: Uow) -> dict[str, bool]:
            seen["user_and_uow"] = all_idle(application)
            return {"ok": True}

        await register(client)
        bearer = {"Authorization": f"Bearer {await login(client)}"}
        assert (await client.get("/probe/user-only", headers=bearer)).status_code == 200
        assert (await client.get("/probe/user-and-uow", headers=bearer)).status_code == 200
        me = await client.get("/api/v1/users/me", headers=bearer)
        assert me.status_code == 200 and me.json()["email"] == "ada@example.com"
        assert all_idle(application)
    assert seen == {"user_only": True, "user_and_uow": False}


async def test_users_me_refused_by_the_session_check_releases(own_database: str) -> None:
    """A token whose session has ended is a 401 after the query: the connection still
    comes back, however many such requests there are."""
    async with live_app(own_database) as application, client_for(application) as client:
        await register(client)
        bearer = {"Authorization": f"Bearer {await login(client)}"}
        changed = await client.post(
            "/api/v1/users/me/password",
            json={"current_password": TEST_PASSWORD, "new_password": "another " + TEST_PASSWORD},
            headers=bearer,
        )
        assert changed.status_code == 204  # ends every session, this token's included
        for _ in range(pool_of(application).get_max_size() + 2):
            assert_envelope(
                await client.get("/api/v1/users/me", headers=bearer), 401, "AuthenticationError"
            )
        assert all_idle(application)


async def test_exception_releases_and_rolls_back(own_database: str) -> None:
    async with live_app(own_database) as application:
        add_probe_routes(application, {})
        async with client_for(application) as client:
            for _ in range(pool_of(application).get_max_size() + 2):
                assert_envelope(await client.get("/probe/crash"), 500, "InternalServerError")
            assert all_idle(application)
            assert await pool_of(application).fetchval(IDLE_IN_TRANSACTION) == 0


async def test_cancelled_request_releases_and_rolls_back(own_database: str) -> None:
    started = asyncio.Event()
    async with live_app(own_database) as application:
        add_probe_routes(application, {"slow_started": started})
        async with client_for(application) as client:
            request = asyncio.create_task(client.get("/probe/slow"))
            await asyncio.wait_for(started.wait(), 5)
            request.cancel()  # the client goes away mid-request
            with pytest.raises(asyncio.CancelledError):
                await request
        pool = pool_of(application)
        for _ in range(100):
            if all_idle(application):
                break
            await asyncio.sleep(0.02)
        assert all_idle(application)
        assert await pool.fetchval("SELECT count(*) FROM users") == 0
        assert await pool.fetchval(IDLE_IN_TRANSACTION) == 0


async def test_response_is_sent_after_commit(own_database: str) -> None:
    async with live_app(own_database) as application, client_for(application) as client:
        response = await client.post(
            "/api/v1/users", json={"email": "ada@example.com", "password": TEST_PASSWORD}
        )
        assert response.status_code == 201
        outsider = await asyncpg.connect(own_database)
        try:
            assert await outsider.fetchval("SELECT count(*) FROM users") == 1
        finally:
            await outsider.close()


async def test_concurrent_registrations_of_one_email_one_wins(own_database: str) -> None:
    async with live_app(own_database) as application, client_for(application) as client:
        responses = await asyncio.gather(
            *[
                client.post(
                    "/api/v1/users",
                    json={"email": f"{case}@example.com", "password": TEST_PASSWORD},
                )
                for case in ["race", "RACE", "Race", "rAce", "raCe", "racE"]
            ]
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201, 409, 409, 409, 409, 409]
        assert all_idle(application)
        assert await pool_of(application).fetchval("SELECT count(*) FROM users") == 1


async def test_database_down_is_503_and_health_stays_200() -> None:
    unreachable = f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    down = live_app(unreachable, db_pool_min_size=0, db_acquire_timeout_seconds=1)
    async with down as application, client_for(application) as client:
        assert (await client.get("/health")).status_code == 200
        ready = await client.get("/ready")
        assert_envelope(ready, 503, "ServiceUnavailableError")
        assert int(ready.headers["Retry-After"]) >= 1
        login = await client.post(
            "/api/v1/auth/login", json={"email": "a@example.com", "password": TEST_PASSWORD}
        )
        assert_envelope(login, 503, "ServiceUnavailableError")


async def test_ready_is_200_when_the_database_answers(own_database: str) -> None:
    async with live_app(own_database) as application, client_for(application) as client:
        assert (await client.get("/ready")).json() == {"status": "ok"}
        assert all_idle(application)
