"""Rotation: a key moved from signing to JWT_VERIFY_KEY_FILES keeps its tokens valid;
once removed, they fail. New tokens always carry the signing key's kid."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from jose import jwt

from tests.support.http import borrowing_app, client_for, login, register
from tests.support.keys import key_for, key_pair_settings
from tests.support.tokens import me


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

    async with client_for(borrowing_app(phases["before"], conn)) as before:
        await register(before)
        old_token = await login(before)
    assert jwt.get_unverified_header(old_token)["kid"] == old_kid

    async with client_for(borrowing_app(phases["rotated"], conn)) as rotated:
        assert (await me(rotated, old_token)).status_code == 200
        new_token = await login(rotated)
        assert jwt.get_unverified_header(new_token)["kid"] == new_kid
        assert (await me(rotated, new_token)).status_code == 200
        published = (await rotated.get("/.well-known/jwks.json")).json()["keys"]
        assert [key["kid"] for key in published] == [new_kid, old_kid]

    async with client_for(borrowing_app(phases["old key removed"], conn)) as removed:
        assert (await me(removed, old_token)).status_code == 401
        assert (await me(removed, new_token)).status_code == 200
        published = (await removed.get("/.well-known/jwks.json")).json()["keys"]
        assert [key["kid"] for key in published] == [new_kid]
