"""Each flow writes its audit event, and admins read the trail newest first, by keyset."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from jose import jwt

from tests.support.audit import events_of, make_admin
from tests.support.http import assert_envelope, register
from tests.support.sessions import bearer, login
from tests.support.settings import TEST_PASSWORD

AUDIT = "/api/v1/admin/audit-events"
NEW_PASSWORD = "a brand new passphrase"


async def test_each_flow_writes_its_event_with_the_client_address(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    user = await register(client)
    first = await login(client)
    second = await login(client)
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": "not it at all"}
    )
    assert wrong.status_code == 401
    revoke = await client.delete(
        f"/api/v1/users/me/sessions/{jwt.get_unverified_claims(second['access_token'])['sid']}",
        headers=bearer(first),
    )
    assert revoke.status_code == 204, revoke.text
    logout = await client.post(
        "/api/v1/auth/logout",
        json={"refresh_token": first["refresh_token"]},
        headers=bearer(first),
    )
    assert logout.status_code == 204
    third = await login(client)
    change = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(third),
    )
    assert change.status_code == 204, change.text

    events = await events_of(conn, uuid.UUID(user["id"]))
    assert [event["type"] for event in events] == [
        "login",
        "login",
        "login_failed",
        "session_revoked",
        "session_revoked",
        "login",
        "password_changed",
    ]
    assert {event["address"] for event in events} == {"127.0.0.1"}
    own = [event for event in events if event["type"] != "login_failed"]
    assert all(event["actor_id"] == uuid.UUID(user["id"]) for event in own)
    failed = events[2]
    assert failed["actor_id"] is None
    assert "ada@example.com" not in failed["details"]
    assert '"reason": "bad_credentials"' in failed["details"]
    assert '"reason": "revoked"' in events[3]["details"]
    assert '"reason": "logout"' in events[4]["details"]


async def test_a_login_failure_for_an_unknown_email_keeps_no_email(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    response = await client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": "whatever it is"}
    )
    assert response.status_code == 401
    row = await conn.fetchrow(
        "SELECT user_id, address, details::text AS details FROM audit_events"
        " WHERE type = 'login_failed' ORDER BY id DESC LIMIT 1"
    )
    assert row is not None
    assert (row["user_id"], row["address"]) == (None, "127.0.0.1")
    assert "nobody" not in row["details"]


async def test_admins_page_through_the_trail_newest_first(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    admin = await make_admin(client, conn)
    user = await register(client)
    for _ in range(5):
        await login(client)
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"user_id": user["id"], "type": "login", "limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        response = await client.get(AUDIT, params=params, headers=admin)
        assert response.status_code == 200, response.text
        body = response.json()
        assert all(
            item["type"] == "login" and item["user_id"] == user["id"] for item in body["items"]
        )
        assert set(body["items"][0]) == {
            "id",
            "at",
            "type",
            "user_id",
            "actor_id",
            "address",
            "details",
        }
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and seen == sorted(seen, reverse=True)

    everything = (await client.get(AUDIT, headers=admin)).json()["items"]
    ids = [item["id"] for item in everything]
    assert ids == sorted(ids, reverse=True) and set(seen) <= set(ids)
    assert {item["user_id"] for item in everything} > {user["id"]}  # the admin's login too


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "not a cursor"},
        {"cursor": "YWUxOng"},
        {"type": "nonsense"},
        {"limit": 0},
        {"limit": 101},
        {"user_id": "not-a-uuid"},
    ],
)
async def test_bad_query_parameters_are_a_422(
    client: httpx.AsyncClient, conn: asyncpg.Connection, params: dict[str, str | int]
) -> None:
    admin = await make_admin(client, conn)
    response = await client.get(AUDIT, params=params, headers=admin)
    assert_envelope(response, 422, "ValidationError")


async def test_the_trail_is_for_admins_only(client: httpx.AsyncClient) -> None:
    assert_envelope(await client.get(AUDIT), 401, "AuthenticationError")
    await register(client)
    pair = await login(client)
    assert_envelope(await client.get(AUDIT, headers=bearer(pair)), 403, "AuthorizationError")
