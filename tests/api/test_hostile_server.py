"""Everything issue 12 tried as an attacker, against the app served by uvicorn on a real
socket: no 5xx, the right envelope every time, and neither the "unavailable" login count nor
any 5xx counter moves.

Every malformed token shape, from tests/support/tokens.py, goes to the server too: the
deeply nested JSON header (`[[[[...`, 3,000 deep) was a RecursionError in the JWT library and
a 500 before the header was checked first.

In process (`serving`), not `python -m app serve`: `serve` gives uvicorn no parser, limit or
proxy setting other than uvicorn's defaults (app/cli.py), which `serving` uses too, so these
requests meet the same HTTP handling; what only the process shows (workers, signals, start-up
refusals) is tested in tests/cli and tests/faults/test_outages.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.main import create_app
from tests.support.http import serving
from tests.support.metrics import Samples
from tests.support.settings import make_settings
from tests.support.tokens import DEEP, b64

MAX_FAILURES = 3
REGISTER_LIMIT = 4
PASSWORD = "correct horse battery"
ACE = "mallory@xn--bcher-kva.de"
GROWS = "\u0958" * 320  # NFC makes it 640 characters


@pytest.fixture
async def server(own_database: str) -> AsyncIterator[str]:
    settings = make_settings(
        database_url=own_database,
        login_max_failures=MAX_FAILURES,
        register_max_per_address=REGISTER_LIMIT,
    )
    async with serving(create_app(settings)) as base_url:
        yield base_url


async def scrape(http: httpx.AsyncClient) -> Samples:
    return Samples((await http.get("/metrics")).text)


def server_errors(samples: Samples) -> float:
    requests = samples.named("http_requests_total")
    return sum(v for (_, labels), v in requests.items() if dict(labels)["status"][0] == "5")


def expect(response: httpx.Response, status: int, error_type: str | None = None) -> None:
    assert response.status_code == status, (response.request.url, response.text)
    if error_type is None:
        return
    error: dict[str, Any] = response.json()["error"]
    assert error["type"] == error_type and error["statusCode"] == status
    assert error["requestId"] == response.headers["x-request-id"]


async def test_hostile_inputs_get_clear_answers_and_no_5xx(server: str) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        before = await scrape(http)

        async def login(email: str, password: str) -> httpx.Response:
            return await http.post(
                "/api/v1/auth/login", json={"email": email, "password": password}
            )

        async def register(email: str, password: str = PASSWORD) -> httpx.Response:
            return await http.post("/api/v1/users", json={"email": email, "password": password})

        # Emails that normalisation makes too long: a plain 401 at login, 422 at sign-up.
        expect(await login(GROWS, PASSWORD), 401, "AuthenticationError")
        form = {"username": GROWS, "password": PASSWORD}
        expect(await http.post("/api/v1/auth/token", data=form), 401, "AuthenticationError")
        expect(await register("\u0958" * 100 + "@example.com"), 422, "ValidationError")
        # IDNA: the string registered is the string that logs in; tokens are not cached.
        expect(await register(ACE), 201)
        logged_in = await login(ACE, PASSWORD)
        expect(logged_in, 200)
        assert logged_in.headers["cache-control"] == "no-store"
        # Common passwords; passwords far too long.
        expect(await register("eve@example.com", "password"), 422, "ValidationError")
        expect(await login(ACE, "x" * 5000), 422, "ValidationError")
        # Malformed tokens and refresh tokens.
        nested = b64(b"[" * DEEP + b"]" * DEEP)
        for bearer in ("abc", "a.b.c", "e30.e30.", "x" * 5000, f"{nested}.e30.sig"):
            me = await http.get("/api/v1/users/me", headers={"Authorization": f"Bearer {bearer}"})
            expect(me, 401, "AuthenticationError")
        refresh = await http.post("/api/v1/auth/refresh", json={"refresh_token": "not-a-token"})
        expect(refresh, 401, "AuthenticationError")
        # A method of our own choosing, an insane request id.
        expect(await http.request("PROPFIND", "/health"), 405, "MethodNotAllowedError")
        odd = await http.get("/health", headers={"X-Request-ID": "id with spaces;"})
        assert odd.headers["x-request-id"] != "id with spaces;"
        # Guessing locks the guessing address out of the account, right password or not.
        statuses = [(await login(ACE, "wrong guess!")).status_code for _ in range(MAX_FAILURES + 2)]
        assert statuses == [401] * MAX_FAILURES + [429] * 2
        expect(await login(ACE, PASSWORD), 429, "RateLimitError")
        expect(await login("nobody@example.com", "wrong guess!"), 401, "AuthenticationError")
        # Registration flood from one address.
        answers = [await register(f"bot{n}@example.com") for n in range(REGISTER_LIMIT + 2)]
        assert [a.status_code for a in answers].count(201) == REGISTER_LIMIT - 1  # ACE was 1
        expect(answers[-1], 429, "RateLimitError")
        assert int(answers[-1].headers["retry-after"]) > 0

        after = await scrape(http)
    assert after.value("auth_logins_total", outcome="unavailable") == before.value(
        "auth_logins_total", outcome="unavailable"
    )
    assert server_errors(after) == server_errors(before) == 0
    for error_type in ("InternalServerError", "ServiceUnavailableError"):
        assert after.value("http_error_responses_total", type=error_type) == 0
    assert after.value("auth_logins_total", outcome="locked") >= 2  # the scrape saw the run
    assert after.value("http_requests_total", method="other", route="/health", status="405") == 1
