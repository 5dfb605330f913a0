"""Every doubtful token is a 401 with a Bearer challenge; an inactive user's is a 403."""

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


def claims(settings: Settings, user_id: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "sub": user_id,
        "iat": now,
        "exp": now + 600,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": uuid.uuid4().hex,
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def sign(settings: Settings, payload: dict[str, Any], algorithm: str = "HS256") -> str:
    return str(jwt.encode(payload, settings.jwt_secret_value, algorithm=algorithm))


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})


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
    for name, token in forged_tokens(settings, user_id).items():
        response = await me(client, token)
        assert response.status_code == 401, name
        assert_envelope(response, 401, "AuthenticationError")
        assert response.headers["WWW-Authenticate"] == "Bearer", name


async def test_inactive_users_token_is_403(client: httpx.AsyncClient, uow: UnitOfWork) -> None:
    created = await register(client)
    token = await login(client)
    await uow.users.set_active(uuid.UUID(created["id"]), False)
    assert_envelope(await me(client, token), 403, "AuthorizationError")
