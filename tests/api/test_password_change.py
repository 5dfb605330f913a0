"""Changing the password: current one required, registration rules, refresh tokens revoked."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.core.settings import Settings
from tests.support.http import login, register
from tests.support.settings import TEST_PASSWORD, make_settings

CHANGE = "/api/v1/users/me/password"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def settings() -> Settings:
    return make_settings(login_max_failures=3)


async def change(
    http: httpx.AsyncClient, access_token: str, current: str, new: str = NEW_PASSWORD
) -> httpx.Response:
    return await http.post(
        CHANGE,
        json={"current_password": current, "new_password": new},
        headers={"Authorization": f"Bearer {access_token}"},
    )


async def login_pair(http: httpx.AsyncClient, password: str = TEST_PASSWORD) -> httpx.Response:
    return await http.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": password}
    )


async def test_change_revokes_every_refresh_token(client: httpx.AsyncClient) -> None:
    await register(client)
    sessions: list[dict[str, Any]] = [(await login_pair(client)).json() for _ in range(2)]
    response = await change(client, sessions[0]["access_token"], TEST_PASSWORD)
    assert response.status_code == 204
    for session in sessions:
        spent = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}
        )
        assert spent.status_code == 401
    assert (await login_pair(client)).status_code == 401
    assert (await login_pair(client, NEW_PASSWORD)).status_code == 200


async def test_wrong_current_password_is_401_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    token = await login(client)
    response = await change(client, token, "not my password")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Invalid credentials"
    assert (await login_pair(client)).status_code == 200


async def test_current_password_guesses_are_locked_out(client: httpx.AsyncClient) -> None:
    await register(client)
    token = await login(client)
    statuses = [(await change(client, token, f"guess {n}")).status_code for n in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert (await change(client, token, TEST_PASSWORD)).status_code == 429


@pytest.mark.parametrize(
    ("new_password", "message"),
    [
        ("short", "at least 8"),
        ("\ufdfa" * 3 + "abcdefgh", "at most 72 bytes"),  # grows past 72 bytes under NFKC
    ],
)
async def test_new_password_follows_the_registration_rules(
    client: httpx.AsyncClient, new_password: str, message: str
) -> None:
    await register(client)
    token = await login(client)
    response = await change(client, token, TEST_PASSWORD, new_password)
    assert response.status_code == 422
    assert message in response.text
    assert new_password not in response.text


async def test_change_needs_a_bearer(client: httpx.AsyncClient) -> None:
    response = await client.post(
        CHANGE, json={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 401
