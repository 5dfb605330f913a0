"""Login answer times by kind, interleaved: what tests/api/test_login_timing.py bounds and
bench/login_timing.py prints."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Awaitable, Callable

import httpx

PASSWORD = "correct horse battery"
WRONG = "not the password"
KINDS = ("unknown email", "wrong password", "locked account")
LOGIN = "/api/v1/auth/login"


async def _post_login(http: httpx.AsyncClient, email: str, password: str) -> int:
    response = await http.post(LOGIN, json={"email": email, "password": password})
    return response.status_code


async def measure(
    http: httpx.AsyncClient, *, repeats: int, max_failures: int
) -> dict[str, list[float]]:
    """Seconds per answer of each kind, interleaved so machine noise hits every kind alike.

    `http` talks to an app with an empty database and LOGIN_MAX_FAILURES = `max_failures`.
    """
    per_account = max_failures - 1  # wrong guesses an account takes without locking
    wrong_accounts = [
        f"wrong{n}@example.com" for n in range(math.ceil((repeats + 1) / per_account))
    ]
    for email in ["locked@example.com", *wrong_accounts]:
        response = await http.post("/api/v1/users", json={"email": email, "password": PASSWORD})
        assert response.status_code == 201, response.text
    for _ in range(max_failures):
        assert await _post_login(http, "locked@example.com", WRONG) == 401
    guesses = iter(email for email in wrong_accounts for _ in range(per_account))
    unknown = iter(f"nobody{n}@example.com" for n in range(repeats + 1))
    expected = {"unknown email": 401, "wrong password": 401, "locked account": 429}
    attempts: dict[str, Callable[[], Awaitable[int]]] = {
        "unknown email": lambda: _post_login(http, next(unknown), WRONG),
        "wrong password": lambda: _post_login(http, next(guesses), WRONG),
        "locked account": lambda: _post_login(http, "locked@example.com", PASSWORD),
    }
    for kind in KINDS:  # warm-up: first calls pay for imports and caches
        assert await attempts[kind]() == expected[kind]
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for _ in range(repeats):
        for kind in KINDS:
            started = time.perf_counter()
            status = await attempts[kind]()
            times[kind].append(time.perf_counter() - started)
            assert status == expected[kind], (kind, status)
    return times


def medians(times: dict[str, list[float]]) -> dict[str, float]:
    return {kind: statistics.median(samples) for kind, samples in times.items()}
