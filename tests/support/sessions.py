"""A client's token pair (login answers carry the session), as the session tests and the
race tests drive it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.settings import TEST_PASSWORD

Pair = dict[str, Any]  # a login or refresh answer: access_token, refresh_token, ...


def bearer(pair: Pair) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


async def refresh(http: httpx.AsyncClient, pair: Pair) -> httpx.Response:
    return await http.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})


async def login(
    http: httpx.AsyncClient, email: str = "ada@example.com", user_agent: str = "laptop/1.0"
) -> Pair:
    response = await http.post(
        "/api/v1/auth/login",
        json={"email": email, "password": TEST_PASSWORD},
        headers={"User-Agent": user_agent},
    )
    assert response.status_code == 200, response.text
    body: Pair = response.json()
    return body


async def me(http: httpx.AsyncClient, pair: Pair) -> int:
    return (await http.get("/api/v1/users/me", headers=bearer(pair))).status_code
