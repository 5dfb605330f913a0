"""Without replicas the access token carries no WAL position: nothing would read it, and the
login pays no extra query for it."""

from __future__ import annotations

import httpx
from jose import jwt

from app.core.tokens import WAL_POSITION_CLAIM
from tests.support.http import login, register


async def test_with_no_replica_the_token_carries_no_position(client: httpx.AsyncClient) -> None:
    await register(client)
    assert WAL_POSITION_CLAIM not in jwt.get_unverified_claims(await login(client))
