"""Input hygiene: one normal form for emails and passwords, and limits with clear errors."""

from __future__ import annotations

import json

import httpx
import pytest

from app.api.errors import MAX_FIELD_CHARS
from app.api.json_limits import MAX_JSON_DEPTH
from tests.support.http import register
from tests.support.settings import TEST_PASSWORD

LOGIN = "/api/v1/auth/login"
LIGATURE_PASSWORD = "\ufb01ne passphrase"  # "ﬁ" (one code point) is "fi" under NFKC
PLAIN_PASSWORD = "fine passphrase"


async def login_status(http: httpx.AsyncClient, email: str, password: str) -> int:
    response = await http.post(LOGIN, json={"email": email, "password": password})
    return response.status_code


async def form_login_status(http: httpx.AsyncClient, email: str, password: str) -> int:
    response = await http.post("/api/v1/auth/token", data={"username": email, "password": password})
    return response.status_code


def assert_validation_error(response: httpx.Response, text: str) -> None:
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["type"] == "ValidationError"
    assert error["requestId"] == response.headers["x-request-id"]
    assert text in json.dumps(error)


async def test_email_is_trimmed_and_matched_case_insensitively(
    client: httpx.AsyncClient,
) -> None:
    created = await register(client, email="  Ada@Example.com ")
    assert created["email"] == "ada@example.com"  # stored in the one normal form
    assert await login_status(client, "ada@EXAMPLE.COM", TEST_PASSWORD) == 200
    assert await login_status(client, "\tADA@example.com  ", TEST_PASSWORD) == 200
    assert await form_login_status(client, " aDa@example.com ", TEST_PASSWORD) == 200
    taken = await client.post(
        "/api/v1/users", json={"email": "ADA@EXAMPLE.COM", "password": TEST_PASSWORD}
    )
    assert taken.status_code == 409


@pytest.mark.parametrize(
    ("registered", "typed"),
    [(LIGATURE_PASSWORD, PLAIN_PASSWORD), (PLAIN_PASSWORD, LIGATURE_PASSWORD)],
)
async def test_passwords_are_nfkc_normalised_at_registration_and_login(
    client: httpx.AsyncClient, registered: str, typed: str
) -> None:
    await register(client, password=registered)
    assert await login_status(client, "ada@example.com", typed) == 200
    assert await form_login_status(client, "ada@example.com", typed) == 200


async def test_passwords_are_never_trimmed(client: httpx.AsyncClient) -> None:
    await register(client, password="  spaced out  ")
    assert await login_status(client, "ada@example.com", "spaced out") == 401
    assert await login_status(client, "ada@example.com", "  spaced out  ") == 200
    assert await form_login_status(client, "ada@example.com", "  spaced out  ") == 200


async def test_byte_limit_is_checked_after_normalising(client: httpx.AsyncClient) -> None:
    grows = "\ufdfa" * 3 + "abcdefgh"  # 17 bytes as sent, over 100 after NFKC
    response = await client.post(
        "/api/v1/users", json={"email": "ada@example.com", "password": grows}
    )
    assert_validation_error(response, "at most 72 bytes")
    assert grows not in response.text


@pytest.mark.parametrize(
    ("raw_body", "field"),
    [
        ('{"email": "ada@example.com", "password": "pass\\u0000word!"}', "password"),
        ('{"email": "ada\\u0000@example.com", "password": "password!"}', "email"),
        ('{"email": "ada@example.com", "password": "pass\\ud800word!"}', "password"),
    ],
)
async def test_text_postgres_cannot_store_is_a_422_not_a_500(
    client: httpx.AsyncClient, raw_body: str, field: str
) -> None:
    for path in ("/api/v1/users", LOGIN):
        response = await client.post(
            path, content=raw_body, headers={"Content-Type": "application/json"}
        )
        assert_validation_error(response, field)


async def test_json_nested_too_deep_gets_a_clear_422(client: httpx.AsyncClient) -> None:
    nested = '{"email": ' + "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1) + "}"
    response = await client.post(
        LOGIN, content=nested, headers={"Content-Type": "application/json"}
    )
    assert_validation_error(response, f"JSON nesting exceeds {MAX_JSON_DEPTH} levels")


async def test_json_deep_enough_to_break_the_parser_gets_the_same_422(
    client: httpx.AsyncClient,
) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    response = await client.post(
        LOGIN, content=nested, headers={"Content-Type": "application/json"}
    )
    assert_validation_error(response, "JSON nesting exceeds")


async def test_over_long_strings_get_a_clear_422(client: httpx.AsyncClient) -> None:
    response = await client.post(LOGIN, json={"email": "a" * 400 + "@example.com", "password": "x"})
    assert_validation_error(response, "at most 320 characters")
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": "t" * 10_000})
    assert_validation_error(response, "refresh_token")


async def test_unknown_keys_are_named_but_never_echoed_at_length(
    client: httpx.AsyncClient,
) -> None:
    key = "k" * 5000
    response = await client.post(
        LOGIN, json={"email": "ada@example.com", "password": "x", key: "v"}
    )
    assert_validation_error(response, "Extra inputs are not permitted")
    fields = [d["field"] for d in response.json()["error"]["details"]]
    assert fields == ["k" * MAX_FIELD_CHARS]


async def test_oversized_body_is_413_in_the_envelope(client: httpx.AsyncClient) -> None:
    response = await client.post(
        LOGIN, json={"email": "ada@example.com", "password": "x" * (2 * 1024 * 1024)}
    )
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "PayloadTooLargeError"
