"""Concurrent reset requests and confirms, on a live app with a pool of its own: the
hourly limit holds under a burst, and one token sets one password.

Locks: a reset request takes the user's row lock (FOR NO KEY UPDATE) in a statement of its
own, then counts and inserts in the next one, whose snapshot (READ COMMITTED) sees every
request that held the lock before; a confirm spends its token with one conditional UPDATE.
"""

from __future__ import annotations

import asyncio

import asyncpg

from tests.support.http import client_for, live_app
from tests.support.settings import TEST_PASSWORD

BURST = 12


async def test_a_burst_of_reset_requests_stores_at_most_the_hourly_limit(
    own_database: str,
) -> None:
    async with live_app(own_database, db_pool_max_size=BURST) as app, client_for(app) as http:
        await http.post(
            "/api/v1/users", json={"email": "ada@example.com", "password": TEST_PASSWORD}
        )
        answers = await asyncio.gather(
            *(
                http.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"})
                for _ in range(BURST)
            )
        )
    assert {answer.status_code for answer in answers} == {202}
    connection = await asyncpg.connect(own_database)
    try:
        tokens = await connection.fetchval(
            "SELECT count(*) FROM one_time_tokens WHERE purpose = 'reset'"
        )
        mails = await connection.fetchval(
            "SELECT count(*) FROM mail_outbox WHERE subject LIKE 'Reset%'"
        )
    finally:
        await connection.close()
    assert (tokens, mails) == (3, 3)


async def test_two_confirms_with_one_token_set_one_password(own_database: str) -> None:
    async with live_app(own_database) as app, client_for(app) as http:
        await http.post(
            "/api/v1/users", json={"email": "ada@example.com", "password": TEST_PASSWORD}
        )
        await http.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"})
        connection = await asyncpg.connect(own_database)
        try:
            text = await connection.fetchval(
                "SELECT body_text FROM mail_outbox WHERE subject LIKE 'Reset%'"
            )
        finally:
            await connection.close()
        token = text.split("token=")[1].split()[0]
        passwords = [f"new passphrase number {n}" for n in range(2)]
        answers = await asyncio.gather(
            *(
                http.post(
                    "/api/v1/auth/password-reset/confirm",
                    json={"token": token, "new_password": password},
                )
                for password in passwords
            )
        )
        assert sorted(answer.status_code for answer in answers) == [204, 400]
        winner = passwords[[answer.status_code for answer in answers].index(204)]
        login = await http.post(
            "/api/v1/auth/login", json={"email": "ada@example.com", "password": winner}
        )
        assert login.status_code == 200
