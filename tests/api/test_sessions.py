"""Sessions: every login opens one, the access token names it, and ending it ends access on
the very next request, whichever way it ends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from jose import jwt

from app.core.settings import Settings
from app.db.uow import UnitOfWork
from tests.support.http import register
from tests.support.sessions import Pair, bearer, login, me, refresh
from tests.support.settings import TEST_PASSWORD, make_settings

SESSIONS = "/api/v1/users/me/sessions"
MAX_AGE_DAYS = 3


@pytest.fixture
def settings() -> Settings:
    return make_settings(session_max_age_days=MAX_AGE_DAYS)


def sid(pair: Pair) -> str:
    session_id: str = jwt.get_unverified_claims(pair["access_token"])["sid"]
    return session_id


async def listed(http: httpx.AsyncClient, pair: Pair) -> list[dict[str, Any]]:
    response = await http.get(SESSIONS, headers=bearer(pair))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_every_login_opens_a_session_that_its_tokens_name(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await register(client)
    laptop = await login(client, user_agent="laptop/1.0")
    # now() stands still in the suite's transaction: make the first login the older one.
    await conn.execute("UPDATE sessions SET created_at = created_at - interval '1 minute'")
    form = await client.post(
        "/api/v1/auth/token",
        data={"username": "ada@example.com", "password": TEST_PASSWORD},
        headers={"User-Agent": "docs-page"},
    )
    assert form.status_code == 200
    rotated = (await refresh(client, laptop)).json()
    assert sid(rotated) == sid(laptop)  # a refresh keeps the session

    items = await listed(client, rotated)
    assert [item["id"] for item in items] == [sid(form.json()), sid(laptop)]  # newest first
    assert [item["user_agent"] for item in items] == ["docs-page", "laptop/1.0"]
    assert [item["current"] for item in items] == [False, True]
    assert {item["address"] for item in items} == {"127.0.0.1"}
    assert set(items[0]) == {"id", "created_at", "last_used_at", "user_agent", "address", "current"}


async def test_a_refresh_marks_the_session_used(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await register(client)
    pair = await login(client)
    # The suite's connection sits in one transaction, where now() stands still: move the
    # session's times back instead of waiting.
    await conn.execute(
        "UPDATE sessions SET created_at = created_at - interval '1 hour', "
        "last_used_at = last_used_at - interval '1 hour'"
    )
    before = (await listed(client, pair))[0]
    await refresh(client, pair)
    after = (await listed(client, pair))[0]
    assert after["last_used_at"] > before["last_used_at"]
    assert after["created_at"] == before["created_at"]


async def end_by_logout(http: httpx.AsyncClient, pair: Pair, other: Pair) -> None:
    response = await http.post(
        "/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}, headers=bearer(pair)
    )
    assert response.status_code == 204


async def end_by_password_change(http: httpx.AsyncClient, pair: Pair, other: Pair) -> None:
    response = await http.post(
        "/api/v1/users/me/password",
        json={"current_password": TEST_PASSWORD, "new_password": "a brand new passphrase"},
        headers=bearer(other),  # from another session: it ends every one
    )
    assert response.status_code == 204


async def end_by_session_delete(http: httpx.AsyncClient, pair: Pair, other: Pair) -> None:
    response = await http.delete(f"{SESSIONS}/{sid(pair)}", headers=bearer(other))
    assert response.status_code == 204
    assert response.content == b""


Ending = Callable[[httpx.AsyncClient, Pair, Pair], Awaitable[None]]


@pytest.mark.parametrize("end", [end_by_logout, end_by_password_change, end_by_session_delete])
async def test_ending_a_session_ends_its_tokens_on_the_next_request(
    client: httpx.AsyncClient, end: Ending
) -> None:
    await register(client)
    pair, other = await login(client), await login(client, user_agent="phone/2.0")
    assert await me(client, pair) == 200  # now verified, and in the token cache
    await end(client, pair, other)
    assert await me(client, pair) == 401
    assert (await refresh(client, pair)).status_code == 401


async def test_deactivation_ends_access_on_the_next_request(
    client: httpx.AsyncClient, uow: UnitOfWork
) -> None:
    user = await register(client)
    pair = await login(client)
    assert await me(client, pair) == 200
    await uow.users.set_active(UUID(user["id"]), False)
    assert await me(client, pair) == 401
    assert (await refresh(client, pair)).status_code == 401


async def test_deleting_a_session_leaves_the_others(client: httpx.AsyncClient) -> None:
    await register(client)
    laptop, phone = await login(client), await login(client, user_agent="phone/2.0")
    response = await client.delete(f"{SESSIONS}/{sid(phone)}", headers=bearer(laptop))
    assert response.status_code == 204
    assert [item["id"] for item in await listed(client, laptop)] == [sid(laptop)]
    assert await me(client, laptop) == 200
    # Ended sessions leave the list, and cannot be ended twice.
    again = await client.delete(f"{SESSIONS}/{sid(phone)}", headers=bearer(laptop))
    assert again.status_code == 404


async def test_another_users_or_an_unknown_session_is_404(client: httpx.AsyncClient) -> None:
    await register(client)
    await register(client, email="bob@example.com")
    ada, bob = await login(client), await login(client, email="bob@example.com")
    for session_id in (sid(bob), str(uuid4())):
        response = await client.delete(f"{SESSIONS}/{session_id}", headers=bearer(ada))
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "NotFoundError"
    assert await me(client, bob) == 200  # untouched


async def test_a_session_id_that_is_not_a_uuid_is_422(client: httpx.AsyncClient) -> None:
    await register(client)
    pair = await login(client)
    response = await client.delete(f"{SESSIONS}/not-a-uuid", headers=bearer(pair))
    assert response.status_code == 422
    assert response.json()["error"]["type"] == "ValidationError"


async def test_sessions_need_a_bearer(client: httpx.AsyncClient) -> None:
    assert (await client.get(SESSIONS)).status_code == 401
    assert (await client.delete(f"{SESSIONS}/{uuid4()}")).status_code == 401


async def test_a_session_ends_at_its_absolute_limit_however_often_it_rotates(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await register(client)
    pair = await login(client)
    lifetime = await conn.fetchval("SELECT expires_at - created_at FROM sessions")
    assert lifetime == timedelta(days=MAX_AGE_DAYS)
    for _ in range(3):
        pair = (await refresh(client, pair)).json()
    # Age the session by its whole lifetime (now() stands still in the suite's transaction):
    # its latest refresh token is days from its own expiry, but the session is over.
    await conn.execute(
        "UPDATE sessions SET created_at = created_at - $1::interval, "
        "expires_at = expires_at - $1::interval",
        timedelta(days=MAX_AGE_DAYS),
    )
    assert await conn.fetchval("SELECT bool_and(expires_at > now()) FROM refresh_tokens")
    assert await me(client, pair) == 401
    assert (await refresh(client, pair)).status_code == 401
    assert len(await listed(client, await login(client))) == 1  # a new login starts afresh
