"""docs/integrating.md's verifier, run exactly as written against a served auth-service
that signs with ES256 in production mode and has no JWT_SECRET at all.

Served in process (`serving`, a real uvicorn socket): the claim is about the HTTP answers
and the JWKS, and `serve` adds no HTTP setting of its own (see test_hostile_server.py). The
one check `serve` makes before uvicorn starts, the JWT secret, is asserted on the settings.
The verifier's blocking httpx calls run in a thread, so the server's loop can answer them."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from jose import JWTError, jwt

from app.db.urls import resolve_jwt_secret
from app.main import create_app
from tests.support.database import ROOT
from tests.support.http import serving
from tests.support.keys import ec_key, private_pem, write_file
from tests.support.settings import TEST_PASSWORD, make_settings
from tests.support.tokens import DEEP, b64

MARKER = "<!-- verifier-snippet -->"


def verifier_snippet() -> str:
    """The python block right after the marker in docs/integrating.md."""
    text = (ROOT / "docs" / "integrating.md").read_text()
    match = re.match(r"\s*```python\n(.*?)```", text.split(MARKER, 1)[1], re.DOTALL)
    assert match is not None, "docs/integrating.md lost its verifier snippet"
    return match.group(1)


@pytest.fixture
async def es256_server(own_database: str, tmp_path: Path) -> AsyncIterator[str]:
    key_file = write_file(tmp_path / "signing.pem", private_pem(ec_key()))
    settings = make_settings(
        database_url=own_database,
        app_env="production",
        jwt_algorithm="ES256",
        jwt_signing_key_file=str(key_file),
        jwt_secret=None,  # production needs none under a key pair
    )
    assert resolve_jwt_secret(settings) is settings  # `serve` asks for none either
    async with serving(create_app(settings)) as base_url:
        yield base_url


def documented_verifier(base_url: str) -> Callable[[str], dict[str, Any]]:
    namespace: dict[str, Any] = {}
    exec(compile(verifier_snippet(), "docs/integrating.md", "exec"), namespace)  # noqa: S102
    namespace["JWKS_URL"] = f"{base_url}/.well-known/jwks.json"  # the example host, replaced
    verify: Callable[[str], dict[str, Any]] = namespace["verify"]
    return verify


async def test_the_documented_verifier_checks_tokens_with_the_jwks_url_only(
    es256_server: str,
) -> None:
    credentials = {"email": "svc@example.com", "password": TEST_PASSWORD}
    async with httpx.AsyncClient(base_url=es256_server) as http:
        user = (await http.post("/api/v1/users", json=credentials)).json()
        token = (await http.post("/api/v1/auth/login", json=credentials)).json()["access_token"]
        deep = f"{b64(b'[' * DEEP + b']' * DEEP)}.e30.c2ln"
        bearers = (deep, "a" * 60_000)
        answers = [
            await http.get("/api/v1/users/me", headers={"Authorization": f"Bearer {bearer}"})
            for bearer in bearers
        ]
    for answer in answers:  # through uvicorn's parser, not only the ASGI app
        assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"
        assert answer.json()["error"]["type"] == "AuthenticationError"

    verify = documented_verifier(es256_server)
    assert (await asyncio.to_thread(verify, token))["sub"] == user["id"]

    header, payload, signature = token.split(".")
    kid = jwt.get_unverified_header(token)["kid"]
    refused = {
        "tampered payload": f"{header}.{b64({'sub': 'someone-else'})}.{signature}",
        "alg none": f"{b64({'alg': 'none', 'kid': kid})}.{payload}.",
        "unknown kid": f"{b64({'alg': 'ES256', 'kid': 'not-ours'})}.{payload}.{signature}",
        "kid a list": f"{b64({'alg': 'ES256', 'kid': [kid]})}.{payload}.{signature}",
        "header 3,000 deep": deep,
        "too long": f"{header}.{'A' * 9000}.{signature}",
    }
    for name, bad in refused.items():
        with pytest.raises(JWTError):
            await asyncio.to_thread(verify, bad)
            pytest.fail(name)
