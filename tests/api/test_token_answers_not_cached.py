"""Answers that carry a token say no cache may keep them (RFC 6749 5.1)."""

from __future__ import annotations

import httpx

from tests.support.http import register
from tests.support.settings import TEST_PASSWORD


def assert_not_cacheable(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


async def test_login_token_and_refresh_answers_are_no_store(client: httpx.AsyncClient) -> None:
    await register(client)
    credentials = {"email": "ada@example.com", "password": TEST_PASSWORD}
    login = await client.post("/api/v1/auth/login", json=credentials)
    form = await client.post(
        "/api/v1/auth/token", data={"username": "ada@example.com", "password": TEST_PASSWORD}
    )
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]}
    )
    for response in (login, form, refresh):
        assert_not_cacheable(response)
    # Answers without a token are left to the usual rules.
    assert "cache-control" not in (await client.get("/health")).headers
