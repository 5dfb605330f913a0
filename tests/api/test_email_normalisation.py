"""One normal form of an email for storing, uniqueness, lookup and lockout keys, with its
length checked after normalising (NFC can make a string longer)."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests.support.http import assert_envelope, register
from tests.support.settings import TEST_PASSWORD

ACE = "ada@xn--bcher-kva.de"  # the IDNA (ASCII) spelling of ada@bücher.de
GROWS = "\u0958" * 320  # 320 characters that NFC decomposes into 640


async def login_status(http: httpx.AsyncClient, email: str, password: str = TEST_PASSWORD) -> int:
    response = await http.post("/api/v1/auth/login", json={"email": email, "password": password})
    return response.status_code


async def test_an_idna_email_logs_in_with_the_string_it_registered(
    client: httpx.AsyncClient,
) -> None:
    created = await register(client, email=ACE)
    assert created["email"] == "ada@bücher.de"
    assert await login_status(client, ACE) == 200
    assert await login_status(client, "ADA@Bücher.DE") == 200
    form = await client.post(
        "/api/v1/auth/token", data={"username": ACE.upper(), "password": TEST_PASSWORD}
    )
    assert form.status_code == 200
    taken = await client.post(
        "/api/v1/users", json={"email": "Ada@bücher.de", "password": "x" * 12}
    )
    assert_envelope(taken, 409, "ConflictError")


async def test_every_spelling_feeds_one_lockout_key(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await register(client, email=ACE)
    for email in (ACE, "Ada@Bücher.de", " ADA@XN--BCHER-KVA.DE "):
        assert await login_status(client, email, "wrong password") == 401
    keys = await conn.fetch("SELECT DISTINCT email_key FROM login_attempts")
    assert [k["email_key"] for k in keys] == ["ada@bücher.de"]


@pytest.mark.parametrize("email", [GROWS, "\u0958" * 300 + "@example.com"])
async def test_too_long_once_normalised_is_a_plain_401_at_login(
    client: httpx.AsyncClient, conn: asyncpg.Connection, email: str
) -> None:
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": "whatever1"})
    form = await client.post(
        "/api/v1/auth/token", data={"username": email, "password": "whatever1"}
    )
    for response in (login, form):
        error = assert_envelope(response, 401, "AuthenticationError")
        assert error["message"] == "Invalid credentials"
    assert await conn.fetchval("SELECT count(*) FROM login_attempts") == 0  # nothing stored


@pytest.mark.parametrize("email", [GROWS, "\u0958" * 100 + "@example.com"])
async def test_too_long_once_normalised_is_a_422_at_registration(
    client: httpx.AsyncClient, email: str
) -> None:
    response = await client.post("/api/v1/users", json={"email": email, "password": TEST_PASSWORD})
    error = assert_envelope(response, 422, "ValidationError")
    assert [d["field"] for d in error["details"]] == ["email"]  # type: ignore[attr-defined]
