"""Every doubtful token is a 401 with a Bearer challenge; an inactive user's is a 403."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from jose import jwt

from app.core.settings import Settings
from app.db.uow import UnitOfWork
from tests.support.http import assert_envelope, login, register
from tests.support.tokens import (
    assert_refused,
    b64,
    claims,
    hostile_payloads,
    hostile_shapes,
    hs256,
    me,
    sign,
)


@pytest.fixture
async def user_id(client: httpx.AsyncClient) -> str:
    return str((await register(client))["id"])


def forged_tokens(settings: Settings, user_id: str) -> dict[str, str]:
    good = sign(settings, claims(settings, user_id))
    header, payload, signature = good.split(".")
    return {
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "wrong algorithm": sign(settings, claims(settings, user_id), "HS512"),
        "tampered signature": f"{header}.{payload}.{signature[:-4]}AAAA",
        "tampered payload": f"{header}.{b64(claims(settings, str(uuid.uuid4())))}.{signature}",
        "expired": sign(settings, claims(settings, user_id, exp=int(time.time()) - 5)),
        "wrong audience": sign(settings, claims(settings, user_id, aud="someone-else")),
        "wrong issuer": sign(settings, claims(settings, user_id, iss="someone-else")),
        "no exp": sign(settings, claims(settings, user_id, exp=None)),
        "no iat": sign(settings, claims(settings, user_id, iat=None)),
        "no sub": sign(settings, claims(settings, user_id, sub=None)),
        "sub not a uuid": sign(settings, claims(settings, user_id, sub="admin")),
        "unknown user": sign(settings, claims(settings, str(uuid.uuid4()))),
        "other secret": str(jwt.encode(claims(settings, user_id), "x" * 64, algorithm="HS256")),
        "garbage": "not.a.jwt",
    }


async def test_forged_and_broken_tokens_are_401(
    client: httpx.AsyncClient, settings: Settings, user_id: str
) -> None:
    assert (await me(client, sign(settings, claims(settings, user_id)))).status_code == 200
    await assert_refused(client, forged_tokens(settings, user_id))


async def test_hostile_token_shapes_are_401_never_5xx(
    client: httpx.AsyncClient, settings: Settings, user_id: str
) -> None:
    await assert_refused(client, hostile_shapes(settings, user_id))


async def test_hostile_signed_payloads_are_401_never_5xx(
    client: httpx.AsyncClient, settings: Settings, user_id: str
) -> None:
    secret = settings.jwt_secret.encode()
    good = hs256(secret, {"alg": "HS256", "typ": "JWT"}, claims(settings, user_id))
    assert (await me(client, good)).status_code == 200  # the hand signer signs like jose
    await assert_refused(client, hostile_payloads(settings, user_id))


async def test_inactive_users_token_is_403(client: httpx.AsyncClient, uow: UnitOfWork) -> None:
    created = await register(client)
    token = await login(client)
    await uow.users.set_active(uuid.UUID(created["id"]), False)
    assert_envelope(await me(client, token), 403, "AuthorizationError")
