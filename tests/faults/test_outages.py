"""The database going away, the pool running dry, and the process being told to stop."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from app.db.local import LocalCluster, create_database, free_port
from app.db.uow import UnitOfWork
from tests.support.database import migrate, scratch_cluster, with_database
from tests.support.http import assert_envelope, client_for, live_app, pool_of
from tests.support.settings import TEST_PASSWORD

ACQUIRE_TIMEOUT = 0.5


@pytest.fixture
def private_cluster() -> Iterator[LocalCluster]:
    """A server of this test's own, so it can be stopped and started."""
    with scratch_cluster() as cluster:
        yield cluster


@pytest.fixture
async def private_database(private_cluster: LocalCluster) -> AsyncIterator[str]:
    await create_database(private_cluster.url(), "auth")
    url = with_database(private_cluster.url(), "auth")
    await migrate(url)
    yield url


@pytest.mark.cluster
async def test_database_restart_is_503_then_recovers_without_restarting_the_app(
    private_cluster: LocalCluster, private_database: str
) -> None:
    settings = {"db_acquire_timeout_seconds": ACQUIRE_TIMEOUT, "db_pool_min_size": 2}
    async with (
        live_app(private_database, **settings) as application,
        client_for(application) as client,
    ):
        assert (await client.get("/ready")).status_code == 200
        await asyncio.to_thread(private_cluster.stop, "fast")

        started = time.monotonic()
        register = await client.post(
            "/api/v1/users", json={"email": "down@example.com", "password": TEST_PASSWORD}
        )
        assert time.monotonic() - started < ACQUIRE_TIMEOUT + 2  # no hang
        assert_envelope(register, 503, "ServiceUnavailableError")
        assert_envelope(await client.get("/ready"), 503, "ServiceUnavailableError")
        assert (await client.get("/health")).status_code == 200

        await asyncio.to_thread(private_cluster.start)
        deadline = time.monotonic() + 10
        while (await client.get("/ready")).status_code != 200:
            assert time.monotonic() < deadline, "did not recover after the database came back"
            await asyncio.sleep(0.1)
        register = await client.post(
            "/api/v1/users", json={"email": "back@example.com", "password": TEST_PASSWORD}
        )
        assert register.status_code == 201


@pytest.mark.timing
async def test_exhausted_pool_answers_503_after_the_acquire_timeout(own_database: str) -> None:
    settings = {"db_acquire_timeout_seconds": ACQUIRE_TIMEOUT, "db_pool_max_size": 2}
    async with live_app(own_database, **settings) as application, client_for(application) as client:
        pool = pool_of(application)
        held = [await pool.acquire() for _ in range(pool.get_max_size())]
        try:
            started = time.monotonic()
            response = await client.get("/ready")
            waited = time.monotonic() - started
        finally:
            for connection in held:
                await pool.release(connection)
        assert_envelope(response, 503, "ServiceUnavailableError")
        assert int(response.headers["Retry-After"]) >= 1
        assert ACQUIRE_TIMEOUT * 0.9 <= waited < ACQUIRE_TIMEOUT + 1
        assert (await client.get("/ready")).status_code == 200  # and it serves again


@pytest.mark.process
async def test_sigterm_lets_in_flight_requests_finish_and_closes_pools(
    own_database: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": own_database,
        "BCRYPT_ROUNDS": "10",
        "LOGIN_MAX_FAILURES": "50",  # concurrent attempts count as pending until checked
        "APP_ENV": "test",
        "JWT_SECRET": "graceful-shutdown-test-secret-0123456789",
    }
    server = subprocess.Popen(  # noqa: ASYNC220 (a long-lived server, not awaited work)
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            await _until_healthy(client, server)
            credentials = {"email": "grace@example.com", "password": TEST_PASSWORD}
            assert (await client.post("/api/v1/users", json=credentials)).status_code == 201
            in_flight = [
                asyncio.create_task(client.post("/api/v1/auth/login", json=credentials))
                for _ in range(6)
            ]
            await _until_logins_started(own_database, len(in_flight))
            server.send_signal(signal.SIGTERM)
            responses = await asyncio.gather(*in_flight)
        assert [r.status_code for r in responses] == [200] * 6
        output, _ = await asyncio.to_thread(server.communicate, timeout=20)
    finally:
        if server.poll() is None:
            server.kill()
    # uvicorn re-raises the signal once shut down cleanly, so the exit status says SIGTERM.
    assert server.returncode in (0, -signal.SIGTERM), output
    assert "Traceback" not in output and "ERROR" not in output, output
    assert "Finished server process" in output
    connection = await asyncpg.connect(own_database)
    try:
        left = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'auth-service' "
            "AND datname = current_database()"
        )
    finally:
        await connection.close()
    assert left == 0


async def _until_logins_started(database_url: str, count: int) -> None:
    """Until the server has begun every login (each records its attempt before it hashes):
    a fixed sleep assumed they had, and under load some had not even connected when SIGTERM
    came, so they were refused rather than finished."""
    connection = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + 30
        while await connection.fetchval("SELECT count(*) FROM login_attempts") < count:
            assert time.monotonic() < deadline, "the logins never reached the server"
            await asyncio.sleep(0.01)
    finally:
        await connection.close()


async def _until_healthy(client: httpx.AsyncClient, server: subprocess.Popen[str]) -> None:
    """Start-up takes what it takes on a loaded machine: a deadline, not a count of tries
    (200 tries of 50 ms ran out at load 12 and the test failed on a server still starting)."""
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, "the server exited during start-up"
        assert time.monotonic() < deadline, "the server did not start"
        try:
            if (await client.get("/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)


async def test_concurrent_last_login_updates_all_land(own_database: str) -> None:
    async with asyncpg.create_pool(own_database, min_size=8, max_size=8) as pool:
        setup = UnitOfWork(pool, acquire_timeout=2)
        user = await setup.users.create(email="busy@example.com", password_hash="x", full_name=None)
        await setup.close()

        async def log_in() -> object:
            uow = UnitOfWork(pool, acquire_timeout=2)
            try:
                async with uow.transaction():
                    return await uow.users.record_login(user.id, verified_hash="x", new_hash=None)
            finally:
                await uow.close()

        results = await asyncio.gather(*[log_in() for _ in range(32)])
        assert all(result is not None for result in results)
        stored = await pool.fetchval("SELECT last_login FROM users WHERE id = $1", user.id)
        assert stored == max(r.last_login for r in results)  # type: ignore[attr-defined]
        assert pool.get_idle_size() == pool.get_size()
