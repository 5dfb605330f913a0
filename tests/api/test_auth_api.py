"""POST /api/v1/auth/login and /api/v1/auth/token over HTTP."""

from __future__ import annotations

import httpx

from app.db.uow import UnitOfWork
from tests.support.http import USER_FIELDS, assert_envelope, register
from tests.support.settings import TEST_PASSWORD


async def test_login_returns_a_bearer_token_and_the_user(client: httpx.AsyncClient) -> None:
    await register(client)
    response = await client.post(
        "/api/v1/auth/login", json={"email": " Ada@Example.com ", "password": TEST_PASSWORD}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 15 * 60
    assert set(body["user"]) == USER_FIELDS and body["user"]["last_login"] is not None
    assert "hash" not in response.text


async def test_bad_email_and_bad_password_get_the_same_401(client: httpx.AsyncClient) -> None:
    await register(client)
    answers = []
    for email, password in [
        ("ada@example.com", "wrong password"),
        ("eve@example.com", TEST_PASSWORD),
    ]:
        response = await client.post(
            "/api/v1/auth/login", json={"email": email, "password": password}
        )
        error = assert_envelope(response, 401, "AuthenticationError")
        assert response.headers["WWW-Authenticate"] == "Bearer"
        answers.append(error["message"])
    assert answers == ["Invalid credentials", "Invalid credentials"]


async def test_a_password_far_too_long_is_a_failed_login_not_an_error(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    response = await client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": "x" * 500}
    )
    assert_envelope(response, 401, "AuthenticationError")


async def test_inactive_user_login_is_403(client: httpx.AsyncClient, uow: UnitOfWork) -> None:
    created = await register(client)
    user = await uow.users.find_by_email(created["email"])
    assert user is not None
    await uow.users.set_active(user.id, False)
    response = await client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": TEST_PASSWORD}
    )
    assert_envelope(response, 403, "AuthorizationError")


async def test_oauth2_password_form_issues_a_token(client: httpx.AsyncClient) -> None:
    await register(client)
    response = await client.post(
        "/api/v1/auth/token", data={"username": "ada@example.com", "password": TEST_PASSWORD}
    )
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"access_token", "token_type", "expires_in"}
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
    )
    assert me.status_code == 200


async def test_oauth2_form_with_wrong_password_is_401(client: httpx.AsyncClient) -> None:
    await register(client)
    response = await client.post(
        "/api/v1/auth/token", data={"username": "ada@example.com", "password": "nope nope"}
    )
    assert_envelope(response, 401, "AuthenticationError")


async def test_oauth2_form_missing_a_field_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/token", data={"username": "ada@example.com"})
    error = assert_envelope(response, 422, "ValidationError")
    assert {"field": "password", "message": "Field required"} in error["details"]  # type: ignore[operator]
