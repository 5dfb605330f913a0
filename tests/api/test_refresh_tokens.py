"""Refresh tokens: rotation within a session, replay detection that ends the session, logout."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from app.core.refresh_tokens import hash_refresh_token, new_refresh_token
from app.db.uow import UnitOfWork
from tests.support.http import register
from tests.support.settings import TEST_PASSWORD

REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"


async def login_pair(http: httpx.AsyncClient, email: str = "ada@example.com") -> dict[str, Any]:
    response = await http.post(
        "/api/v1/auth/login", json={"email": email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def refresh(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post(REFRESH, json={"refresh_token": token})


async def logout(http: httpx.AsyncClient, pair: dict[str, Any], token: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    return await http.post(LOGOUT, json={"refresh_token": token}, headers=headers)


async def test_login_returns_an_opaque_refresh_token_stored_only_as_its_hash(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await register(client)
    pair = await login_pair(client)
    token = pair["refresh_token"]
    assert pair["token_type"] == "bearer"
    assert len(token) >= 43 and token.count(".") == 0  # 256 random bits, not a JWT
    rows = await conn.fetch("SELECT token_hash, t::text AS raw FROM refresh_tokens t")
    assert [bytes(r["token_hash"]) for r in rows] == [hashlib.sha256(token.encode()).digest()]
    assert token not in rows[0]["raw"]


async def test_refresh_rotates_the_pair(client: httpx.AsyncClient) -> None:
    await register(client)
    pair = await login_pair(client)
    rotated = await refresh(client, pair["refresh_token"])
    assert rotated.status_code == 200
    body = rotated.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["refresh_token"] != pair["refresh_token"]
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert (await refresh(client, body["refresh_token"])).status_code == 200


async def test_replaying_a_spent_token_revokes_the_family(client: httpx.AsyncClient) -> None:
    await register(client)
    first = (await login_pair(client))["refresh_token"]
    second = (await refresh(client, first)).json()["refresh_token"]
    replay = await refresh(client, first)
    assert replay.status_code == 401
    assert replay.json()["error"]["type"] == "AuthenticationError"
    assert replay.headers["www-authenticate"] == "Bearer"
    # The thief's (or the user's) newer token dies with the family.
    assert (await refresh(client, second)).status_code == 401


async def test_replay_leaves_other_logins_alone(client: httpx.AsyncClient) -> None:
    await register(client)
    laptop = (await login_pair(client))["refresh_token"]
    phone = (await login_pair(client))["refresh_token"]
    await refresh(client, laptop)
    assert (await refresh(client, laptop)).status_code == 401
    assert (await refresh(client, phone)).status_code == 200


async def test_unknown_and_expired_tokens_are_401(
    client: httpx.AsyncClient, uow: UnitOfWork
) -> None:
    user = await register(client)
    assert (await refresh(client, new_refresh_token())).status_code == 401
    expired = new_refresh_token()
    session_id = await uow.sessions.open(
        UUID(user["id"]), max_age=timedelta(days=30), user_agent=None, address=None
    )
    await uow.refresh_tokens.create(
        user_id=UUID(user["id"]),
        session_id=session_id,
        token_hash=hash_refresh_token(expired),
        expires_at=datetime.now(UTC) - timedelta(seconds=1),
    )
    assert (await refresh(client, expired)).status_code == 401


async def test_refresh_for_an_inactive_user_is_401(
    client: httpx.AsyncClient, uow: UnitOfWork
) -> None:
    user = await register(client)
    pair = await login_pair(client)
    await uow.users.set_active(UUID(user["id"]), False)
    response = await refresh(client, pair["refresh_token"])
    assert response.status_code == 401


async def test_logout_ends_the_session(client: httpx.AsyncClient) -> None:
    await register(client)
    other = await login_pair(client)
    pair = await login_pair(client)
    rotated = (await refresh(client, pair["refresh_token"])).json()
    response = await logout(client, rotated, rotated["refresh_token"])
    assert response.status_code == 204
    assert response.content == b""
    assert (await refresh(client, rotated["refresh_token"])).status_code == 401
    # Its access token died with it; logging that session out again (from another of the
    # user's sessions) is still a success, and leaves the other session alone.
    assert (await logout(client, rotated, rotated["refresh_token"])).status_code == 401
    assert (await logout(client, other, rotated["refresh_token"])).status_code == 204
    assert (await refresh(client, other["refresh_token"])).status_code == 200


async def test_logout_needs_a_bearer_and_a_token_of_ones_own(client: httpx.AsyncClient) -> None:
    await register(client)
    await register(client, email="bob@example.com")
    ada = await login_pair(client)
    bob = await login_pair(client, email="bob@example.com")
    no_bearer = await client.post(LOGOUT, json={"refresh_token": ada["refresh_token"]})
    assert no_bearer.status_code == 401
    assert (await logout(client, bob, ada["refresh_token"])).status_code == 401
    assert (await logout(client, ada, new_refresh_token())).status_code == 401
    assert (await refresh(client, ada["refresh_token"])).status_code == 200


async def test_access_tokens_are_short_lived(client: httpx.AsyncClient) -> None:
    await register(client)
    pair = await login_pair(client)
    assert pair["expires_in"] == 15 * 60
