"""A password reset ends every session of the user: the refresh and the access tokens
issued before it stop working at once.

The access-token half needs the session check in the authenticated path (the sessions
branch: uow.sessions.end_all_for_user, swapped into password_reset._end_all_sessions at
merge). Until then an access token lives until it expires, and that test fails.
"""

from __future__ import annotations

import asyncpg
import httpx

from tests.support.http import register
from tests.support.smtp import MailCatcher, borrowed, token_in, worker_for

LOGIN = "/api/v1/auth/login"
NEW_PASSWORD = "a brand new passphrase"


async def _logged_in_then_reset(
    http: httpx.AsyncClient, conn: asyncpg.Connection, catcher: MailCatcher
) -> dict[str, str]:
    await register(http)
    response = await http.post(
        LOGIN, json={"email": "ada@example.com", "password": "correct horse battery"}
    )
    tokens: dict[str, str] = response.json()
    await http.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"})
    await worker_for(borrowed(conn), catcher).drain()
    reset = next(m for m in catcher.to("ada@example.com") if "Reset" in m["Subject"])
    confirmed = await http.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token_in(reset), "new_password": NEW_PASSWORD},
    )
    assert confirmed.status_code == 204
    return tokens


async def test_old_refresh_token_is_rejected_after_the_reset(
    client: httpx.AsyncClient, conn: asyncpg.Connection, mail_catcher: MailCatcher
) -> None:
    tokens = await _logged_in_then_reset(client, conn, mail_catcher)
    response = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert response.status_code == 401


async def test_old_access_token_is_rejected_after_the_reset(
    client: httpx.AsyncClient, conn: asyncpg.Connection, mail_catcher: MailCatcher
) -> None:
    tokens = await _logged_in_then_reset(client, conn, mail_catcher)
    response = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 401
