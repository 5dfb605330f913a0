"""No malicious lockout (ASVS 5.0 6.1.1): failures from elsewhere never stop a correct login
from an address that logged in to the account before, while the attacker's address, and
any client the account has not seen, stay locked."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from app.core.settings import Settings
from tests.support.http import register
from tests.support.lockout import MAX_FAILURES, MAX_PER_ADDRESS, attempt, client_from, shape
from tests.support.settings import TEST_PASSWORD, make_settings

OWNER = "198.51.100.10"
ATTACKER = "203.0.113.66"
NEWCOMER = "192.0.2.99"


@pytest.fixture
def settings() -> Settings:
    return make_settings(
        login_max_failures=MAX_FAILURES, login_max_failures_per_address=MAX_PER_ADDRESS
    )


async def attack(attacker: httpx.AsyncClient, email: str = "ada@example.com") -> None:
    statuses = [(await attempt(attacker, email=email)).status_code for _ in range(MAX_FAILURES + 3)]
    assert statuses == [401] * MAX_FAILURES + [429] * 3


async def test_a_known_client_logs_in_through_an_attack(app: FastAPI) -> None:
    async with client_from(app, OWNER) as owner, client_from(app, ATTACKER) as attacker:
        await register(owner)
        assert (await attempt(owner, password=TEST_PASSWORD)).status_code == 200
        await attack(attacker)
        assert (await attempt(owner, password=TEST_PASSWORD)).status_code == 200
        # The owner's success resets nothing for the attacker, right password or not.
        assert (await attempt(attacker, password=TEST_PASSWORD)).status_code == 429
        assert (await attempt(owner, password=TEST_PASSWORD)).status_code == 200


async def test_an_unknown_client_is_locked_like_an_unknown_email(app: FastAPI) -> None:
    """What anyone the account has not seen gets during an attack: the same 429 as for an
    email nobody registered, so the lock still says nothing about the account."""
    async with (
        client_from(app, OWNER) as owner,
        client_from(app, ATTACKER) as attacker,
        client_from(app, NEWCOMER) as newcomer,
    ):
        await register(owner)
        assert (await attempt(owner, password=TEST_PASSWORD)).status_code == 200
        await attack(attacker)
        await attack(attacker, email="nobody@example.com")
        real = await attempt(newcomer, password=TEST_PASSWORD)
        unknown = await attempt(newcomer, email="nobody@example.com", password=TEST_PASSWORD)
    assert real.status_code == 429
    assert shape(real) == shape(unknown)
    assert 0 < int(real.headers["retry-after"]) <= int(unknown.headers["retry-after"]) + 1


async def test_a_known_client_is_still_locked_by_its_own_failures(app: FastAPI) -> None:
    async with client_from(app, OWNER) as owner:
        await register(owner)
        assert (await attempt(owner, password=TEST_PASSWORD)).status_code == 200
        await attack(owner)
        assert (await attempt(owner, password=TEST_PASSWORD)).status_code == 429


async def test_a_known_client_changes_its_password_through_an_attack(app: FastAPI) -> None:
    async with client_from(app, OWNER) as owner, client_from(app, ATTACKER) as attacker:
        await register(owner)
        login = await attempt(owner, password=TEST_PASSWORD)
        token = login.json()["access_token"]
        await attack(attacker)
        changed = await owner.post(
            "/api/v1/users/me/password",
            json={"current_password": TEST_PASSWORD, "new_password": "a new and long passphrase"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert changed.status_code == 204, changed.text
