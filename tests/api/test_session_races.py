"""Races end one way: a revocation racing a refresh, logins or a rehash wins, every trial.

Each test serves the real app with its real pool on a database of its own, and runs the
racing clients as concurrent tasks: every request holds a pool connection of its own, so
the database sees them as concurrent transactions on separate connections. The clients
speak HTTP only (as an attacker would), so the tests run unchanged against older code.
Each trial starts the racers with a random offset, and the invariant is checked on every
trial; the failures of all trials are collected, then asserted, so a failure shows how
many trials broke and how.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from app.core.passwords import PasswordHasher
from app.db.uow import UnitOfWork
from tests.support.http import client_for, live_app, pool_of, register
from tests.support.races import (
    SERVED,
    TRIALS,
    RefreshLoop,
    Survivors,
    assert_every_trial_held,
    jitter,
    race_refresh_loop,
    run_trials,
)
from tests.support.sessions import Pair, bearer, login, refresh
from tests.support.settings import TEST_PASSWORD, TEST_ROUNDS

LOGINS_PER_CLIENT = 5
NEW_PASSWORD = "a brand new passphrase"


@asynccontextmanager
async def rehash_due(url: str) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    """A client of a server at TEST_ROUNDS, where users register and hold hashes of that
    cost, and the server at one round more whose every login with such a hash rehashes."""
    async with (
        live_app(url, **SERVED) as low,
        live_app(url, **SERVED, bcrypt_rounds=TEST_ROUNDS + 1) as high,
        client_for(low) as registrar,
    ):
        yield registrar, high


async def change_password(http: httpx.AsyncClient, owner: Pair) -> int:
    response = await http.post(
        "/api/v1/users/me/password",
        json={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(owner),
    )
    return response.status_code


async def test_a_refresh_loop_racing_a_password_change_dies_with_it(
    http: httpx.AsyncClient,
) -> None:
    async def trial(email: str) -> Counter[str]:
        owner = await login(http, email)

        async def revoke(loop: RefreshLoop) -> None:
            assert await change_password(http, owner) == 204

        return await race_refresh_loop(http, await login(http, email), revoke)

    await run_trials(http, trial)


async def test_a_refresh_loop_racing_its_logout_dies_with_it(http: httpx.AsyncClient) -> None:
    async def trial(email: str) -> Counter[str]:
        start = await login(http, email)
        owner = await login(http, email)  # another session's bearer: it outlives the logout

        async def revoke(loop: RefreshLoop) -> None:
            # The refresh token the loop holds right now: the one a thief would have copied.
            response = await http.post(
                "/api/v1/auth/logout",
                json={"refresh_token": loop.latest["refresh_token"]},
                headers=bearer(owner),
            )
            assert response.status_code == 204, response.text

        return await race_refresh_loop(http, start, revoke)

    await run_trials(http, trial)


async def test_a_refresh_loop_racing_a_replay_dies_with_it(http: httpx.AsyncClient) -> None:
    async def trial(email: str) -> Counter[str]:
        start = await login(http, email)

        async def revoke(loop: RefreshLoop) -> None:
            # The login's own token, spent by the loop's first refresh, comes back.
            assert (await refresh(http, start)).status_code == 401

        return await race_refresh_loop(http, start, revoke, wait_for_first_refresh=True)

    await run_trials(http, trial)


async def test_old_password_logins_racing_a_change_do_not_outlive_it(
    http: httpx.AsyncClient,
) -> None:
    clients = 4

    async def trial(email: str) -> Counter[str]:
        owner = await login(http, email)
        pairs: list[Pair] = []

        async def log_in_until_refused() -> None:
            await jitter(0.005)
            for _ in range(LOGINS_PER_CLIENT):
                response = await http.post(
                    "/api/v1/auth/login", json={"email": email, "password": TEST_PASSWORD}
                )
                if response.status_code != 200:
                    return
                pairs.append(response.json())

        async def change() -> None:
            await jitter()
            assert await change_password(http, owner) == 204

        await asyncio.gather(change(), *(log_in_until_refused() for _ in range(clients)))
        survivors = Survivors()
        for pair in pairs:
            await survivors.check_dead(http, pair)
        return survivors.counts

    await run_trials(http, trial)


async def test_a_rehash_racing_a_change_never_brings_the_old_password_back(
    own_database: str,
) -> None:
    """Users made at TEST_ROUNDS log in to a server at one round more: every login with the
    old hash rehashes. Whichever of the change and the rehashes wins, the stored hash must
    be the winner's: the new password after a 204, the old one after a refused change."""
    hasher = PasswordHasher(rounds=TEST_ROUNDS)
    clients = 4
    failed = 0
    broken: Counter[str] = Counter()
    async with rehash_due(own_database) as (registrar, high), client_for(high) as http:
        for number in range(TRIALS):
            email = f"rehash{number}@example.com"
            await register(registrar, email)
            owner = await login(registrar, email)  # at the user's own rounds: no rehash yet

            async def log_in(email: str = email) -> None:
                await jitter(0.004)
                await http.post(
                    "/api/v1/auth/login", json={"email": email, "password": TEST_PASSWORD}
                )

            async def change(owner: Pair = owner) -> int:
                await jitter(0.004)
                return await change_password(http, owner)

            status, *_ = await asyncio.gather(change(), *(log_in() for _ in range(clients)))
            async with pool_of(high).acquire() as conn:
                user = await UnitOfWork.borrowing(conn).users.find_by_email(email)
            assert user is not None
            new_works = (await hasher.verify(NEW_PASSWORD, user.password_hash))[0]
            old_works = (await hasher.verify(TEST_PASSWORD, user.password_hash))[0]
            if status == 204 and not new_works:
                broken["the change answered 204 but the old password is back"] += 1
            if status != 204 and not old_works:
                broken["the change was refused but the password changed"] += 1
            failed += (status == 204) != new_works or old_works == new_works
    assert_every_trial_held(broken, failed)


async def test_logins_racing_each_others_rehash_all_succeed(own_database: str) -> None:
    """The other side of the compare-and-set: a login that finds the hash it verified
    replaced by another login's rehash (the same password) checks again and succeeds,
    rather than telling the user their right password is wrong."""
    statuses: Counter[int] = Counter()
    async with rehash_due(own_database) as (registrar, high), client_for(high) as http:
        for number in range(10):
            email = f"together{number}@example.com"
            await register(registrar, email)
            answers = await asyncio.gather(
                *(
                    http.post(
                        "/api/v1/auth/login", json={"email": email, "password": TEST_PASSWORD}
                    )
                    for _ in range(4)
                )
            )
            statuses.update(answer.status_code for answer in answers)
    assert statuses == {200: 40}
