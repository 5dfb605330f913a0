"""The cache of verified tokens never lets through what a full decode would refuse."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from jose import jwt

from app.core import tokens as tokens_module
from app.core.errors import AuthenticationError
from app.core.keys import KeyRing
from app.core.tokens import AccessClaims, TokenCodec
from tests.support.keys import key_for, key_pair_settings


def codec_for(keys: KeyRing) -> TokenCodec:
    return TokenCodec(keys=keys, expires_minutes=15, issuer="i", audience="a")


def user_1() -> AccessClaims:
    return AccessClaims(user_id=uuid.UUID(int=1), session_id=uuid.UUID(int=101))


@pytest.fixture
def codec() -> TokenCodec:
    return codec_for(KeyRing.shared_secret("s" * 40, "HS256"))


def test_a_cached_token_still_expires(codec: TokenCodec, monkeypatch: pytest.MonkeyPatch) -> None:
    token = codec.issue(user_1()).token
    assert codec.claims(token) == user_1()  # verified and remembered
    later = time.time() + 15 * 60 + 1
    monkeypatch.setattr(time, "time", lambda: later)  # the clock tokens.py reads
    with pytest.raises(AuthenticationError):
        codec.claims(token)


def test_only_the_exact_token_hits_the_cache(codec: TokenCodec) -> None:
    token = codec.issue(user_1()).token
    assert codec.claims(token) == user_1()
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    with pytest.raises(AuthenticationError):
        codec.claims(tampered)


def test_a_refused_token_is_not_remembered(codec: TokenCodec) -> None:
    other = codec_for(KeyRing.shared_secret("x" * 40, "HS256"))
    forged = other.issue(user_1()).token
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            codec.claims(forged)


def test_the_cache_is_bounded(codec: TokenCodec, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens_module, "VERIFIED_CACHE_SIZE", 3)
    who = [AccessClaims(user_id=uuid.uuid4(), session_id=uuid.uuid4()) for _ in range(5)]
    issued = [codec.issue(claims).token for claims in who]
    assert [codec.claims(token) for token in issued] == who
    assert len(codec._verified) == 3  # the oldest two were dropped
    assert codec.claims(issued[0]) == who[0]  # and verify again in full when seen again


def test_every_access_token_names_its_session(codec: TokenCodec) -> None:
    claims = user_1()
    payload = jwt.get_unverified_claims(codec.issue(claims).token)
    assert (payload["sub"], payload["sid"]) == (str(claims.user_id), str(claims.session_id))


@pytest.mark.parametrize("algorithm", ["ES256", "RS256"])
def test_a_key_pair_signs_with_its_kid_and_its_public_jwk_verifies(
    tmp_path: Path, algorithm: str
) -> None:
    settings = key_pair_settings(tmp_path, algorithm, key_for(algorithm))
    codec = TokenCodec.from_settings(settings)
    token = codec.issue(user_1()).token
    [published] = settings.token_keys().public_jwks()
    assert jwt.get_unverified_header(token) == {
        "alg": algorithm,
        "typ": "JWT",
        "kid": published["kid"],
    }
    claims = jwt.decode(
        token, published, algorithms=[algorithm], audience=settings.jwt_audience
    )  # anyone with the JWKS alone
    assert claims["sub"] == str(user_1().user_id) and codec.claims(token) == user_1()


def test_a_shared_secret_token_carries_no_kid(codec: TokenCodec) -> None:
    assert "kid" not in jwt.get_unverified_header(codec.issue(user_1()).token)
