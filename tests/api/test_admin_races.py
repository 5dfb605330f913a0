"""Administration racing the rest, on a served app with a database of its own: keyset pages
while users are created, and a deactivation racing logins and refreshes (docs/security.md,
"Races end one way")."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI

from app.db.database import Database
from tests.support.admin import grant_admin
from tests.support.http import register
from tests.support.races import (
    RefreshLoop,
    Survivors,
    jitter,
    race_refresh_loop,
    run_trials,
)
from tests.support.sessions import Pair, bearer, login
from tests.support.settings import TEST_PASSWORD

HASH = "$2b$04$" + "x" * 53  # rows to page through; nobody logs in as them
PAGE = 7
LOGIN_CLIENTS = 6


@pytest.fixture
async def root(http: httpx.AsyncClient, served: FastAPI) -> Pair:
    await register(http, "root@example.com")
    uow = database_of(served).unit_of_work()
    try:
        await grant_admin(uow, "root@example.com")
    finally:
        await uow.close()
    return await login(http, "root@example.com")


def database_of(application: FastAPI) -> Database:
    database: Database = application.state.database
    return database


async def create_users(database: Database, emails: list[str]) -> None:
    """One transaction for all of `emails`: they share one created_at, so only the id
    orders them, the tie the keyset must break."""
    uow = database.unit_of_work()
    try:
        async with uow.transaction():
            for email in emails:
                await uow.users.create(email=email, password_hash=HASH, full_name=None)
    finally:
        await uow.close()


def position(item: dict[str, Any]) -> tuple[datetime, UUID]:
    return datetime.fromisoformat(item["created_at"]), UUID(item["id"])


async def test_paging_sees_every_user_once_in_order_while_users_are_created(
    http: httpx.AsyncClient, served: FastAPI, root: Pair
) -> None:
    database = database_of(served)
    for batch in range(5):
        await create_users(database, [f"old{batch}-{i}@example.com" for i in range(50)])
    done = asyncio.Event()
    created_meanwhile = 0

    created = asyncio.Event()  # set after each user the creator adds

    async def keep_creating() -> None:
        nonlocal created_meanwhile
        while not done.is_set():
            await create_users(database, [f"new{created_meanwhile}@example.com"])
            created_meanwhile += 1
            created.set()
            await asyncio.sleep(0.002)

    pages = 0

    async def page_through() -> list[dict[str, Any]]:
        nonlocal pages
        seen: list[dict[str, Any]] = []
        cursor: str | None = None
        try:
            while True:
                # At least one user created between any two pages, however fast pages are.
                created.clear()
                await asyncio.wait_for(created.wait(), timeout=10)
                pages += 1
                params = {"limit": PAGE} | ({"cursor": cursor} if cursor else {})
                response = await http.get(
                    "/api/v1/admin/users", params=params, headers=bearer(root)
                )
                assert response.status_code == 200, response.text
                body = response.json()
                assert len(body["items"]) <= PAGE
                seen += body["items"]
                if (cursor := body["next_cursor"]) is None:
                    return seen
        finally:
            done.set()

    creator = asyncio.create_task(keep_creating())
    seen = await page_through()
    await creator

    pre_existing = [item for item in seen if not item["email"].startswith("new")]
    assert len(pre_existing) == 251  # 250 and the admin: each exactly once
    assert len({item["id"] for item in seen}) == len(seen)  # nothing repeated
    assert [position(item) for item in seen] == sorted(position(item) for item in seen)
    assert pages > 5 and created_meanwhile >= pages  # creations between all the pages


async def deactivate(http: httpx.AsyncClient, root: Pair, user_id: str) -> None:
    response = await http.post(f"/api/v1/admin/users/{user_id}/deactivate", headers=bearer(root))
    assert response.status_code == 200, response.text


async def activate(http: httpx.AsyncClient, root: Pair, user_id: str) -> None:
    response = await http.post(f"/api/v1/admin/users/{user_id}/activate", headers=bearer(root))
    assert response.status_code == 200, response.text


async def check_all_dead(http: httpx.AsyncClient, pairs: list[Pair], when: str) -> Counter[str]:
    survivors = Survivors()
    for pair in pairs:
        await survivors.check_dead(http, pair)
    return Counter({f"{what} {when}": n for what, n in survivors.counts.items()})


async def test_logins_racing_a_deactivation_do_not_outlive_it(
    http: httpx.AsyncClient, root: Pair
) -> None:
    """Every login either committed before the deactivation (and its session was ended by
    it) or was refused; activating the user again brings none of those sessions back."""

    async def trial(email: str) -> Counter[str]:
        pairs = [await login(http, email)]
        user_id = pairs[0]["user"]["id"]

        async def log_in_until_refused() -> None:
            await jitter(0.005)
            while True:
                response = await http.post(
                    "/api/v1/auth/login", json={"email": email, "password": TEST_PASSWORD}
                )
                if response.status_code != 200:
                    # 403 once the user is inactive; 401 for a login whose password check
                    # came before the deactivation and whose commit came after it.
                    assert response.status_code in (401, 403), response.text
                    return
                pairs.append(response.json())

        async def deactivation() -> None:
            await jitter()
            await deactivate(http, root, user_id)

        await asyncio.gather(
            deactivation(), *(log_in_until_refused() for _ in range(LOGIN_CLIENTS))
        )
        broken = await check_all_dead(http, pairs, "after the deactivation")
        await activate(http, root, user_id)
        return broken + await check_all_dead(http, pairs, "after activating again")

    await run_trials(http, trial)


async def test_a_refresh_loop_racing_a_deactivation_dies_with_it(
    http: httpx.AsyncClient, root: Pair
) -> None:
    async def trial(email: str) -> Counter[str]:
        start = await login(http, email)
        user_id = start["user"]["id"]

        async def revoke(loop: RefreshLoop) -> None:
            await deactivate(http, root, user_id)

        broken = await race_refresh_loop(http, start, revoke)
        await activate(http, root, user_id)
        return broken + await check_all_dead(http, [start], "after activating again")

    await run_trials(http, trial)
