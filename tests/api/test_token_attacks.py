"""Every doubtful token is a 401 with a Bearer challenge, an inactive user's too."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import httpx
import pytest
from jose import jwt

from app.core.settings import Settings
from app.db.uow import UnitOfWork
from tests.api.test_users_api import assert_envelope
from tests.conftest import login, register


def claims(settings: Settings, who: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """Claims as the server signs them for `who` (a user id `sub` and their session `sid`)."""
    now = int(time.time())
    base = {
        **who,
        "iat": now,
        "exp": now + 600,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": uuid.uuid4().hex,
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def sign(settings: Settings, payload: dict[str, Any], algorithm: str = "HS256") -> str:
    return str(jwt.encode(payload, settings.jwt_secret, algorithm=algorithm))


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
async def who(client: httpx.AsyncClient) -> dict[str, str]:
    """A registered user with a live session: the `sub` and `sid` of their access tokens."""
    user_id = str((await register(client))["id"])
    session_id = jwt.get_unverified_claims(await login(client))["sid"]
    return {"sub": user_id, "sid": session_id}


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
    for name, token in forged_tokens(settings, who).items():
        response = await me(client, token)
        assert response.status_code == 401, name
        assert_envelope(response, 401, "AuthenticationError")
        assert response.headers["WWW-Authenticate"] == "Bearer", name


async def test_inactive_users_token_is_401(client: httpx.AsyncClient, uow: UnitOfWork) -> None:
    """Deactivation ends access on the next request, even if nothing ended the session:
    the session check reads users.is_active in the same query."""
    created = await register(client)
    token = await login(client)
    assert (await me(client, token)).status_code == 200
    await uow.users.set_active(uuid.UUID(created["id"]), False)
    assert_envelope(await me(client, token), 401, "AuthenticationError")
