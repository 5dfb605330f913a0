"""The JWKS and the discovery document other services configure themselves from."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import httpx
from jose import jwk, jwt

from app.api.routes.well_known import MAX_AGE_SECONDS
from tests.support.http import borrowing_app, client_for, login, register
from tests.support.keys import ec_key, key_pair_settings, rsa_key

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}


async def test_the_jwks_is_empty_under_a_shared_secret(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.json() == {"keys": []}
    assert response.headers["Cache-Control"] == f"public, max-age={MAX_AGE_SECONDS}"


async def test_the_jwks_lists_public_halves_that_verify_our_tokens(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    for algorithm, current, old in (
        ("ES256", ec_key(), ec_key("old")),
        ("RS256", rsa_key(), rsa_key("old")),
    ):
        settings = key_pair_settings(tmp_path, algorithm, current, verifying=(old,))
        async with client_for(borrowing_app(settings, conn)) as client:
            response = await client.get("/.well-known/jwks.json")
            assert response.headers["Cache-Control"] == f"public, max-age={MAX_AGE_SECONDS}"
            keys = response.json()["keys"]
            expected = {"EC": {"crv", "x", "y"}, "RSA": {"n", "e"}}
            for key in keys:
                kty = "EC" if algorithm == "ES256" else "RSA"
                assert set(key) == {"kty", "kid", "alg", "use"} | expected[kty]
                assert not PRIVATE_MEMBERS & set(key)
                assert (key["kty"], key["alg"], key["use"]) == (kty, algorithm, "sig")
            await register(client, email=f"{algorithm.lower()}@example.com")
            token = await login(client, email=f"{algorithm.lower()}@example.com")
            kid = jwt.get_unverified_header(token)["kid"]
            assert len(keys) == 2 and keys[0]["kid"] == kid  # the signing key comes first
            assert keys[1]["kid"] == settings.token_keys().public_jwks()[1]["kid"]
            published = jwk.construct(keys[0], algorithm)
            claims = jwt.decode(
                token, published, algorithms=[algorithm], audience=settings.jwt_audience
            )
            assert claims["iss"] == settings.jwt_issuer


async def test_discovery_points_at_the_request_base_url_by_default(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == f"public, max-age={MAX_AGE_SECONDS}"
    assert response.json() == {
        "issuer": "auth-service",
        "jwks_uri": "http://testserver/.well-known/jwks.json",
        "token_endpoint": "http://testserver/api/v1/auth/token",
        "grant_types_supported": ["password"],
        "token_endpoint_auth_methods_supported": ["none"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["HS256"],
    }


async def test_discovery_uses_public_base_url_and_the_tokens_issuer(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    settings = key_pair_settings(
        tmp_path,
        "ES256",
        ec_key(),
        public_base_url="https://auth.example.com/accounts/",
        jwt_issuer="https://auth.example.com/accounts",
    )
    async with client_for(borrowing_app(settings, conn)) as client:
        document = (await client.get("/.well-known/openid-configuration")).json()
        await register(client)
        token = await login(client)
    base = "https://auth.example.com/accounts"
    assert document["jwks_uri"] == f"{base}/.well-known/jwks.json"
    assert document["token_endpoint"] == f"{base}/api/v1/auth/token"
    assert document["id_token_signing_alg_values_supported"] == ["ES256"]
    assert document["issuer"] == jwt.get_unverified_claims(token)["iss"] == base
