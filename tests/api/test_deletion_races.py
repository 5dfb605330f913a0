"""Races end one way: deleting an account while its owner refreshes and logs in.

As in test_session_races.py: the real app with its real pool on a database of its own,
racers as concurrent HTTP clients on separate pool connections, random offsets, the
invariant checked on every trial and the failures collected before asserting. Whatever the
interleaving, the deletion answers 204, no racer gets a 5xx, and nothing the racers got
outlives the deletion: every token they hold is refused, and the user has no rows left.
"""

from __future__ import annotations

import asyncio
import random

import asyncpg
import httpx

from tests.support.http import register
from tests.support.sessions import Pair, bearer, login, me, refresh
from tests.support.settings import TEST_PASSWORD

TRIALS = 12
MAX_REFRESHES = 60  # a loop still refreshing after this many outlived the deletion


async def refresh_loop(http: httpx.AsyncClient, pair: Pair, held: list[Pair]) -> list[int]:
    """Refresh until refused; the statuses seen. Each new pair is kept for the check."""
    statuses = []
    for _ in range(MAX_REFRESHES):
        response = await refresh(http, pair)
        statuses.append(response.status_code)
        if response.status_code != 200:
            break
        pair = response.json()
        held.append(pair)
    return statuses


async def login_loop(http: httpx.AsyncClient, email: str, held: list[Pair]) -> list[int]:
    statuses = []
    for _ in range(4):
        response = await http.post(
            "/api/v1/auth/login", json={"email": email, "password": TEST_PASSWORD}
        )
        statuses.append(response.status_code)
        if response.status_code != 200:
            break
        held.append(response.json())
    return statuses


async def trial(http: httpx.AsyncClient, database_url: str, n: int) -> list[str]:
    email = f"racer{n}@example.com"
    user = await register(http, email)
    deleter = await login(http, email)
    refresher = await login(http, email)
    held: list[Pair] = [refresher]

    async def delete() -> int:
        await asyncio.sleep(random.uniform(0, 0.03))
        response = await http.request(
            "DELETE", "/api/v1/users/me", json={"password": TEST_PASSWORD}, headers=bearer(deleter)
        )
        return response.status_code

    deleted, refreshes, logins = await asyncio.gather(
        delete(), refresh_loop(http, refresher, held), login_loop(http, email, held)
    )
    problems = []
    if deleted != 204:
        problems.append(f"deletion answered {deleted}")
    if any(status >= 500 for status in [*refreshes, *logins]):
        problems.append(f"5xx among refreshes {refreshes} / logins {logins}")
    if refreshes and refreshes[-1] == 200:
        problems.append(f"the refresh loop outlived the deletion ({len(refreshes)} refreshes)")
    alive = [pair for pair in held if await me(http, pair) != 401]
    alive += [pair for pair in held[-3:] if (await refresh(http, pair)).status_code != 401]
    if alive:
        problems.append(f"{len(alive)} tokens work after the deletion")
    connection = await asyncpg.connect(database_url)
    try:
        left = await connection.fetchval(
            "SELECT (SELECT count(*) FROM users WHERE id = $1)"
            " + (SELECT count(*) FROM sessions WHERE user_id = $1)"
            " + (SELECT count(*) FROM refresh_tokens WHERE user_id = $1)",
            user["id"],
        )
    finally:
        await connection.close()
    if left:
        problems.append(f"{left} rows of the user remain")
    return problems


async def test_a_deletion_racing_refreshes_and_logins_ends_one_way(
    http: httpx.AsyncClient, own_database: str
) -> None:
    failures: dict[int, list[str]] = {}
    for n in range(TRIALS):
        if problems := await trial(http, own_database, n):
            failures[n] = problems
    assert not failures, f"{len(failures)} of {TRIALS} trials broke: {failures}"
