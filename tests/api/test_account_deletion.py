"""Deleting an account: by its owner with the password, or by an admin. The user, their
sessions and tokens go; their login attempts and audit events stay, anonymised."""

from __future__ import annotations

import uuid

import asyncpg
import httpx

from app.core.models import LoginOutcome
from tests.support.audit import events_of, make_admin
from tests.support.http import assert_envelope, register
from tests.support.sessions import bearer, login, me, refresh
from tests.support.settings import TEST_PASSWORD

EMAIL = "ada@example.com"
REMAINING = """
SELECT (SELECT count(*) FROM users WHERE id = $1)
     + (SELECT count(*) FROM sessions WHERE user_id = $1)
     + (SELECT count(*) FROM refresh_tokens WHERE user_id = $1)
     + (SELECT count(*) FROM one_time_tokens WHERE user_id = $1)
"""


async def delete_me(http: httpx.AsyncClient, pair: dict[str, str], password: str) -> httpx.Response:
    return await http.request(
        "DELETE", "/api/v1/users/me", json={"password": password}, headers=bearer(pair)
    )


async def test_a_wrong_password_is_a_401_that_counts_and_the_account_stays(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    user = await register(client)
    pair = await login(client)
    response = await delete_me(client, pair, "not the password")
    assert_envelope(response, 401, "AuthenticationError")
    assert await me(client, pair) == 200
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM login_attempts WHERE user_id = $1 AND outcome = $2",
            uuid.UUID(user["id"]),
            LoginOutcome.BAD_CREDENTIALS,
        )
        == 1
    )
    failed = await events_of(conn, uuid.UUID(user["id"]))
    assert failed[-1]["type"] == "login_failed" and '"via": "self"' in failed[-1]["details"]


async def test_self_deletion_removes_the_account_and_anonymises_what_stays(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    user = await register(client)
    user_id = uuid.UUID(user["id"])
    pair = await login(client)
    other = await login(client)
    await client.post("/api/v1/auth/login", json={"email": EMAIL, "password": "wrong one"})

    assert (await delete_me(client, pair, TEST_PASSWORD)).status_code == 204

    assert await me(client, pair) == 401 and await me(client, other) == 401
    assert (await refresh(client, other)).status_code == 401
    login_again = await client.post(
        "/api/v1/auth/login", json={"email": EMAIL, "password": TEST_PASSWORD}
    )
    assert login_again.status_code == 401
    assert await conn.fetchval(REMAINING, user_id) == 0
    assert await conn.fetchval("SELECT count(*) FROM mail_outbox WHERE recipient = $1", EMAIL) == 0
    # The attempts stay for the lockout's arithmetic, but without the email or the address.
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM login_attempts"
            " WHERE email_key = $1 OR client_address = '127.0.0.1'",
            EMAIL,
        )
        == 1
    )  # the login attempt just above, made after the deletion
    events = await events_of(conn, user_id)
    assert [event["type"] for event in events][-1] == "user_deleted"
    assert all(event["address"] is None for event in events)
    assert all(event["details"] == "{}" for event in events[:-1])
    deleted = events[-1]
    assert deleted["actor_id"] == user_id and deleted["details"] == '{"via": "self"}'


async def test_the_email_registers_again_as_a_new_user(client: httpx.AsyncClient) -> None:
    first = await register(client)
    pair = await login(client)
    assert (await delete_me(client, pair, TEST_PASSWORD)).status_code == 204
    second = await register(client)
    assert second["id"] != first["id"]
    assert await me(client, await login(client)) == 200


async def test_an_admin_deletes_another_user_but_not_themselves(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    admin = await make_admin(client, conn)
    user = await register(client)
    pair = await login(client)
    admin_id = (await client.get("/api/v1/users/me", headers=admin)).json()["id"]

    conflict = await client.delete(f"/api/v1/admin/users/{admin_id}", headers=admin)
    assert_envelope(conflict, 409, "ConflictError")
    assert (
        await client.delete(f"/api/v1/admin/users/{user['id']}", headers=admin)
    ).status_code == 204
    assert await me(client, pair) == 401
    gone = await client.delete(f"/api/v1/admin/users/{user['id']}", headers=admin)
    assert_envelope(gone, 404, "NotFoundError")
    assert_envelope(
        await client.delete("/api/v1/admin/users/nope", headers=admin), 422, "ValidationError"
    )
    deleted = (await events_of(conn, uuid.UUID(user["id"])))[-1]
    assert (deleted["type"], deleted["actor_id"], deleted["address"]) == (
        "user_deleted",
        uuid.UUID(admin_id),
        "127.0.0.1",
    )


async def test_admin_deletion_is_for_admins_only(client: httpx.AsyncClient) -> None:
    user = await register(client)
    path = f"/api/v1/admin/users/{user['id']}"
    assert_envelope(await client.delete(path), 401, "AuthenticationError")
    pair = await login(client)
    assert_envelope(await client.delete(path, headers=bearer(pair)), 403, "AuthorizationError")
    assert await me(client, pair) == 200


async def test_a_failing_last_step_leaves_neither_the_deletion_nor_its_event(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """Audit atomicity: the final DELETE of the user fails for real (a row elsewhere still
    references it without a cascade), after the event was written in the same transaction."""
    user = await register(client)
    user_id = uuid.UUID(user["id"])
    pair = await login(client)
    await conn.execute(
        "CREATE TABLE keeps_user (user_id uuid REFERENCES users (id) ON DELETE RESTRICT)"
    )
    await conn.execute("INSERT INTO keeps_user VALUES ($1)", user_id)
    before = await events_of(conn, user_id)

    response = await delete_me(client, pair, TEST_PASSWORD)
    assert_envelope(response, 500, "InternalServerError")  # a bug, not an outage: no 503
    assert await me(client, pair) == 200  # the session was not ended either
    assert await events_of(conn, user_id) == before  # no user_deleted, nothing anonymised
    assert await conn.fetchval("SELECT count(*) FROM users WHERE id = $1", user_id) == 1
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM login_attempts WHERE user_id = $1 AND email_key = $2",
            user_id,
            EMAIL,
        )
        >= 1
    )
