"""Rotation: a key moved from signing to JWT_VERIFY_KEY_FILES keeps its tokens valid;
once removed, they fail. New tokens always carry the signing key's kid."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from fastapi import FastAPI
from jose import jwt

from app.api.deps import get_uow
from app.core.settings import Settings
from app.db.uow import UnitOfWork
from app.main import create_app
from tests.api.test_token_attacks import me
from tests.conftest import client_for, login, register
from tests.keys import key_for, key_pair_settings


def app_on(conn: asyncpg.Connection, settings: Settings) -> FastAPI:
    """The app under `settings`, on the test's savepointed connection (as the `app` fixture)."""
    application = create_app(settings)

    async def borrowed_uow() -> AsyncIterator[UnitOfWork]:
        yield UnitOfWork.borrowing(conn)

    application.dependency_overrides[get_uow] = borrowed_uow
    return application


@pytest.mark.parametrize("algorithm", ["ES256", "RS256"])
async def test_a_retired_key_verifies_until_it_is_removed(
    conn: asyncpg.Connection, tmp_path: Path, algorithm: str
) -> None:
    old, new = key_for(algorithm, "old"), key_for(algorithm)
    phases = {
        "before": key_pair_settings(tmp_path, algorithm, old),
        "rotated": key_pair_settings(tmp_path, algorithm, new, verifying=(old,)),
        "old key removed": key_pair_settings(tmp_path, algorithm, new),
    }
    old_kid = phases["before"].token_keys().signing.kid
    new_kid = phases["rotated"].token_keys().signing.kid
    assert old_kid != new_kid

    async with client_for(app_on(conn, phases["before"])) as before:
        await register(before)
        old_token = await login(before)
    assert jwt.get_unverified_header(old_token)["kid"] == old_kid

    async with client_for(app_on(conn, phases["rotated"])) as rotated:
        assert (await me(rotated, old_token)).status_code == 200
        new_token = await login(rotated)
        assert jwt.get_unverified_header(new_token)["kid"] == new_kid
        assert (await me(rotated, new_token)).status_code == 200
        published = (await rotated.get("/.well-known/jwks.json")).json()["keys"]
        assert [key["kid"] for key in published] == [new_kid, old_kid]

    async with client_for(app_on(conn, phases["old key removed"])) as removed:
        assert (await me(removed, old_token)).status_code == 401
        assert (await me(removed, new_token)).status_code == 200
        published = (await removed.get("/.well-known/jwks.json")).json()["keys"]
        assert [key["kid"] for key in published] == [new_kid]
