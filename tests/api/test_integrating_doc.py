"""docs/integrating.md's verifier, run exactly as written against a served auth-service
that signs with ES256 in production mode and has no JWT_SECRET at all."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jose import JWTError, jwt

from tests.support.database import ROOT
from tests.support.keys import ec_key, private_pem, write_file
from tests.support.processes import app_environment, served
from tests.support.settings import TEST_PASSWORD
from tests.support.tokens import DEEP, b64

MARKER = "<!-- verifier-snippet -->"


def verifier_snippet() -> str:
    """The python block right after the marker in docs/integrating.md."""
    text = (ROOT / "docs" / "integrating.md").read_text()
    match = re.match(r"\s*```python\n(.*?)```", text.split(MARKER, 1)[1], re.DOTALL)
    assert match is not None, "docs/integrating.md lost its verifier snippet"
    return match.group(1)


@pytest.fixture
def es256_server(own_database: str, tmp_path: Path) -> Iterator[str]:
    key_file = write_file(tmp_path / "signing.pem", private_pem(ec_key()))
    env = app_environment(
        own_database,
        APP_ENV="production",
        JWT_ALGORITHM="ES256",
        JWT_SIGNING_KEY_FILE=str(key_file),
    )
    del env["JWT_SECRET"]  # production needs none under a key pair
    with served([sys.executable, "-m", "app", "serve"], env) as base_url:
        yield base_url


def documented_verifier(base_url: str) -> Callable[[str], dict[str, Any]]:
    namespace: dict[str, Any] = {}
    exec(compile(verifier_snippet(), "docs/integrating.md", "exec"), namespace)  # noqa: S102
    namespace["JWKS_URL"] = f"{base_url}/.well-known/jwks.json"  # the example host, replaced
    verify: Callable[[str], dict[str, Any]] = namespace["verify"]
    return verify


def test_the_documented_verifier_checks_tokens_with_the_jwks_url_only(es256_server: str) -> None:
    with httpx.Client(base_url=es256_server) as http:
        user = http.post(
            "/api/v1/users", json={"email": "svc@example.com", "password": TEST_PASSWORD}
        ).json()
        token = http.post(
            "/api/v1/auth/login", json={"email": "svc@example.com", "password": TEST_PASSWORD}
        ).json()["access_token"]
        deep = f"{b64(b'[' * DEEP + b']' * DEEP)}.e30.c2ln"
        server_answer = http.get("/api/v1/users/me", headers={"Authorization": f"Bearer {deep}"})
        huge = http.get("/api/v1/users/me", headers={"Authorization": "Bearer " + "a" * 60_000})
    for answer in (server_answer, huge):  # the served process, not only the ASGI app
        assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"
        assert answer.json()["error"]["type"] == "AuthenticationError"

    verify = documented_verifier(es256_server)
    assert verify(token)["sub"] == user["id"]

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
            verify(bad)
            pytest.fail(name)
