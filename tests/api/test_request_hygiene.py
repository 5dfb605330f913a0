"""A database error during a password change is a 503, as in login. (The request id with
a trailing newline and the method outside the fixed set: tests/api/test_request_middleware.py.)"""

from __future__ import annotations

import asyncpg
import httpx
from fastapi import FastAPI

from tests.support.http import assert_envelope, login, register
from tests.support.settings import TEST_PASSWORD


async def test_a_database_error_during_password_change_is_503(
    client: httpx.AsyncClient, app: FastAPI, conn: asyncpg.Connection
) -> None:
    await register(client)
    token = await login(client)
    # A statement the change needs now fails (rolled back with the test's savepoint).
    await conn.execute("ALTER TABLE login_attempts RENAME TO login_attempts_gone")
    response = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": TEST_PASSWORD, "new_password": "a brand new passphrase"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert_envelope(response, 503, "ServiceUnavailableError")
    assert int(response.headers["retry-after"]) > 0
