"""Small things a hostile client can send: a request id with a trailing newline, a method
of its own choosing (it must not become a metric label), and a database error during a
password change (a 503, as in login)."""

from __future__ import annotations

import asyncpg
import httpx
from fastapi import FastAPI

from app.api.request_id import RequestIdMiddleware
from tests.support.http import assert_envelope, login, register
from tests.support.metrics import scrape
from tests.support.settings import TEST_PASSWORD


async def request_id_for(incoming: bytes) -> str:
    """The X-Request-ID the middleware answers for a raw incoming header value (httpx
    refuses to send a newline, a raw client would not)."""
    sent: list[dict[str, object]] = []

    async def app(scope: object, receive: object, send: object) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]

    async def record(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "headers": [(b"x-request-id", incoming)], "method": "GET"}
    await RequestIdMiddleware(app)(scope, None, record)  # type: ignore[arg-type]
    headers = dict(sent[0]["headers"])  # type: ignore[call-overload]
    return bytes(headers[b"x-request-id"]).decode()


async def test_a_request_id_must_match_whole_not_up_to_a_newline() -> None:
    assert await request_id_for(b"req-kept-1") == "req-kept-1"
    replaced = await request_id_for(b"req-forged\n")
    assert replaced != "req-forged\n" and "\n" not in replaced and len(replaced) == 32


async def test_a_method_outside_the_fixed_set_is_labelled_other(
    client: httpx.AsyncClient,
) -> None:
    response = await client.request("BREW", "/health")
    assert response.status_code == 405
    samples = await scrape(client)
    assert samples.value("http_requests_total", method="other", route="/health", status="405")
    assert "BREW" not in samples.text


async def test_a_database_error_during_password_change_is_503(
    client: httpx.AsyncClient, app: FastAPI, conn: asyncpg.Connection
) -> None:
    await register(client)
    token = await login(client)
    # A statement the change needs now fails (rolled back with the test's savepoint).
    await conn.execute("ALTER TABLE login_attempts RENAME TO login_attempts_gone")
    response = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": TEST_PASSWORD, "new_password": "a brand new passphrase"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert_envelope(response, 503, "ServiceUnavailableError")
    assert int(response.headers["retry-after"]) > 0
