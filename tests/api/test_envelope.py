"""One envelope for every error the API can return, and X-Request-ID on every response."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.core import errors
from app.core.settings import Settings
from app.main import create_app
from tests.support.http import assert_envelope, client_for
from tests.support.settings import make_settings

DOMAIN_ERRORS: list[type[errors.AppError]] = [
    errors.ValidationError,
    errors.AuthenticationError,
    errors.AuthorizationError,
    errors.NotFoundError,
    errors.MethodNotAllowedError,
    errors.ConflictError,
    errors.PayloadTooLargeError,
    errors.RateLimitError,
    errors.InternalServerError,
    errors.ServiceUnavailableError,
    errors.DatabaseError,
    errors.DatabaseUnavailableError,
]


@pytest.fixture
def raising_app(settings: Settings) -> FastAPI:
    """The real app plus routes that raise, to reach every error path."""
    application = create_app(settings)

    @application.get("/raise/{index}")
    async def raise_domain_error(index: int) -> None:
        raise DOMAIN_ERRORS[index]()

    @application.get("/crash")
    async def crash() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    return application


@pytest.mark.parametrize(
    "index", range(len(DOMAIN_ERRORS)), ids=[e.__name__ for e in DOMAIN_ERRORS]
)
async def test_every_domain_error_renders_the_envelope(raising_app: FastAPI, index: int) -> None:
    error_class = DOMAIN_ERRORS[index]
    async with client_for(raising_app) as client:
        response = await client.get(f"/raise/{index}")
    error = assert_envelope(response, error_class.status_code, error_class.type)
    assert ("details" in error) == issubclass(error_class, errors.ValidationError)
    if error_class.status_code in (429, 503):
        assert int(response.headers["Retry-After"]) >= 1
    if error_class.status_code == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
    if error_class.status_code == 500:
        assert error["message"] == "Internal server error"


async def test_unhandled_exception_is_a_generic_500(raising_app: FastAPI) -> None:
    async with client_for(raising_app) as client:
        response = await client.get("/crash")
    error = assert_envelope(response, 500, "InternalServerError")
    assert error["message"] == "Internal server error"
    assert "secret internals" not in response.text and "Traceback" not in response.text


async def test_unknown_route_is_404(client: httpx.AsyncClient) -> None:
    assert_envelope(await client.get("/no/such/route"), 404, "NotFoundError")


async def test_wrong_method_is_405_and_keeps_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/auth/login")
    assert_envelope(response, 405, "MethodNotAllowedError")
    assert response.headers["Allow"] == "POST"


async def test_malformed_json_is_a_validation_error(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/users",
        content=b'{"email": "a@b.co", "password":',
        headers={"Content-Type": "application/json"},
    )
    error = assert_envelope(response, 422, "ValidationError")
    assert error["details"] == [{"field": "body", "message": "Malformed JSON"}]


async def test_oversized_body_is_413(conn: object) -> None:
    application = create_app(make_settings(max_body_bytes=64))
    async with client_for(application) as client:
        declared = await client.post("/api/v1/users", json={"email": "a" * 100 + "@example.com"})
        assert_envelope(declared, 413, "PayloadTooLargeError")

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while streaming
            for _ in range(10):
                yield b"x" * 20

        streamed = await client.post(
            "/api/v1/users", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert_envelope(streamed, 413, "PayloadTooLargeError")


async def test_sane_request_id_is_kept_and_insane_one_replaced(client: httpx.AsyncClient) -> None:
    kept = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert kept.headers["X-Request-ID"] == "abc-123"
    replaced = await client.get("/no/such", headers={"X-Request-ID": "bad id\twith<script>"})
    assert replaced.headers["X-Request-ID"] != "bad id\twith<script>"
    assert replaced.json()["error"]["requestId"] == replaced.headers["X-Request-ID"]
    assert len(replaced.headers["X-Request-ID"]) == 32
