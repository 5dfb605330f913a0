"""Every doubtful token is a 401 with a Bearer challenge, an inactive user's too."""

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
    who_is,
)


@pytest.fixture
async def who(client: httpx.AsyncClient) -> dict[str, str]:
    return await who_is(client)


def forged_tokens(settings: Settings, who: dict[str, str]) -> dict[str, str]:
    good = sign(settings, claims(settings, who))
    stranger = {"sub": str(uuid.uuid4()), "sid": who["sid"]}
    header, payload, signature = good.split(".")
    return {
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "wrong algorithm": sign(settings, claims(settings, who), "HS512"),
        "tampered signature": f"{header}.{payload}.{signature[:-4]}AAAA",
        "tampered payload": f"{header}.{b64(claims(settings, stranger))}.{signature}",
        "expired": sign(settings, claims(settings, who, exp=int(time.time()) - 5)),
        "wrong audience": sign(settings, claims(settings, who, aud="someone-else")),
        "wrong issuer": sign(settings, claims(settings, who, iss="someone-else")),
        "no exp": sign(settings, claims(settings, who, exp=None)),
        "no iat": sign(settings, claims(settings, who, iat=None)),
        "no sub": sign(settings, claims(settings, who, sub=None)),
        "sub not a uuid": sign(settings, claims(settings, who, sub="admin")),
        "unknown user": sign(settings, claims(settings, stranger)),
        "no sid (issued before sessions)": sign(settings, claims(settings, who, sid=None)),
        "sid not a uuid": sign(settings, claims(settings, who, sid="1")),
        "unknown session": sign(settings, claims(settings, who, sid=str(uuid.uuid4()))),
        "other secret": str(jwt.encode(claims(settings, who), "x" * 64, algorithm="HS256")),
        "garbage": "not.a.jwt",
    }


async def test_forged_and_broken_tokens_are_401(
    client: httpx.AsyncClient, settings: Settings, who: dict[str, str]
) -> None:
    assert (await me(client, sign(settings, claims(settings, who)))).status_code == 200
    await assert_refused(client, forged_tokens(settings, who))


async def test_hostile_token_shapes_are_401_never_5xx(
    client: httpx.AsyncClient, settings: Settings, who: dict[str, str]
) -> None:
    await assert_refused(client, hostile_shapes(settings, who))


async def test_hostile_signed_payloads_are_401_never_5xx(
    client: httpx.AsyncClient, settings: Settings, who: dict[str, str]
) -> None:
    secret = settings.jwt_secret_value.encode()
    good = hs256(secret, {"alg": "HS256", "typ": "JWT"}, claims(settings, who))
    assert (await me(client, good)).status_code == 200  # the hand signer signs like jose
    await assert_refused(client, hostile_payloads(settings, who))


async def test_inactive_users_token_is_401(client: httpx.AsyncClient, uow: UnitOfWork) -> None:
    """Deactivation ends access on the next request, even if nothing ended the session:
    the session check reads users.is_active in the same query."""
    created = await register(client)
    token = await login(client)
    assert (await me(client, token)).status_code == 200
    await uow.users.set_active(uuid.UUID(created["id"]), False)
    assert_envelope(await me(client, token), 401, "AuthenticationError")
