"""Common passwords are refused wherever a password is chosen (ASVS 5.0 6.2.4)."""

from __future__ import annotations

import httpx
import pytest

from app.core.common_passwords import common_passwords
from app.core.passwords import COMMON_PASSWORD, password_problem
from tests.support.http import assert_envelope, login, register
from tests.support.settings import TEST_PASSWORD

COMMON = ["password", "Password1", "iloveyou", " qwertyuiop", "TRUSTNO1"]


def test_the_shipped_list_has_at_least_ten_thousand_entries() -> None:
    assert len(common_passwords()) >= 10_000


@pytest.mark.parametrize("password", COMMON)
def test_password_problem_names_common_passwords_for_every_caller(password: str) -> None:
    """The one function registration, change and (later) reset call."""
    assert password_problem(password) == COMMON_PASSWORD
    assert password_problem(TEST_PASSWORD) is None


@pytest.mark.parametrize("password", COMMON)
async def test_registration_refuses_a_common_password(
    client: httpx.AsyncClient, password: str
) -> None:
    response = await client.post(
        "/api/v1/users", json={"email": "ada@example.com", "password": password}
    )
    error = assert_envelope(response, 422, "ValidationError")
    assert error["details"] == [{"field": "password", "message": COMMON_PASSWORD}]
    if password != "password":  # that one is also the field's name
        assert password.strip() not in response.text


async def test_password_change_refuses_a_common_password(client: httpx.AsyncClient) -> None:
    await register(client)
    token = await login(client)
    response = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": TEST_PASSWORD, "new_password": "baseball1"},
        headers={"Authorization": f"Bearer {token}"},
    )
    error = assert_envelope(response, 422, "ValidationError")
    assert error["details"] == [{"field": "new_password", "message": COMMON_PASSWORD}]
