"""POST /api/v1/users and GET /api/v1/users/me over HTTP."""

from __future__ import annotations

import httpx
import pytest

from tests.support.http import USER_FIELDS, assert_envelope, login, register
from tests.support.settings import TEST_PASSWORD


async def test_register_returns_the_user_without_any_hash(client: httpx.AsyncClient) -> None:
    body = await register(client, "ada@example.com", full_name="Ada Lovelace")
    assert set(body) == USER_FIELDS
    assert body["email"] == "ada@example.com" and body["full_name"] == "Ada Lovelace"
    assert body["is_active"] is True and body["last_login"] is None


async def test_register_twice_in_another_case_is_409(client: httpx.AsyncClient) -> None:
    await register(client, "ada@example.com")
    response = await client.post(
        "/api/v1/users", json={"email": "ADA@example.com", "password": TEST_PASSWORD}
    )
    assert_envelope(response, 409, "ConflictError")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email", "password": TEST_PASSWORD}, "email"),
        ({"email": "ada@example.com", "password": "seven77"}, "password"),
        ({"email": "ada@example.com", "password": "😀" * 19}, "password"),  # 76 bytes
        ({"email": "ada@example.com"}, "password"),
        ({"email": "ada@example.com", "password": TEST_PASSWORD, "is_admin": True}, "is_admin"),
    ],
)
async def test_register_validation_names_the_field_and_never_echoes_input(
    client: httpx.AsyncClient, payload: dict[str, object], field: str
) -> None:
    response = await client.post("/api/v1/users", json=payload)
    error = assert_envelope(response, 422, "ValidationError")
    details = error["details"]
    assert isinstance(details, list)
    assert field in {d["field"] for d in details}
    assert all(set(d) == {"field", "message"} for d in details)
    password = payload.get("password")
    if isinstance(password, str):
        assert password not in response.text


async def test_me_returns_the_token_owner(client: httpx.AsyncClient) -> None:
    created = await register(client)
    token = await login(client)
    response = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json()["id"] == created["id"]
    assert set(response.json()) == USER_FIELDS and "hash" not in response.text


async def test_me_without_a_token_is_401_with_bearer_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/users/me")
    assert_envelope(response, 401, "AuthenticationError")
    assert response.headers["WWW-Authenticate"] == "Bearer"
