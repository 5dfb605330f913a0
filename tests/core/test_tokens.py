"""The cache of verified tokens never lets through what a full decode would refuse."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from jose import jwt

from app.core import tokens as tokens_module
from app.core.errors import AuthenticationError
from app.core.keys import KeyRing
from app.core.tokens import TokenCodec
from tests.support.keys import key_for, key_pair_settings


def codec_for(keys: KeyRing) -> TokenCodec:
    return TokenCodec(keys=keys, expires_minutes=15, issuer="i", audience="a")


@pytest.fixture
def codec() -> TokenCodec:
    return codec_for(KeyRing.shared_secret("s" * 40, "HS256"))


def test_a_cached_token_still_expires(codec: TokenCodec, monkeypatch: pytest.MonkeyPatch) -> None:
    token = codec.issue("user-1").token
    assert codec.subject(token) == "user-1"  # verified and remembered
    later = time.time() + 15 * 60 + 1
    monkeypatch.setattr(time, "time", lambda: later)  # the clock tokens.py reads
    with pytest.raises(AuthenticationError):
        codec.subject(token)


def test_only_the_exact_token_hits_the_cache(codec: TokenCodec) -> None:
    token = codec.issue("user-1").token
    assert codec.subject(token) == "user-1"
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    with pytest.raises(AuthenticationError):
        codec.subject(tampered)


def test_a_refused_token_is_not_remembered(codec: TokenCodec) -> None:
    other = codec_for(KeyRing.shared_secret("x" * 40, "HS256"))
    forged = other.issue("user-1").token
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            codec.subject(forged)


def test_the_cache_is_bounded(codec: TokenCodec, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens_module, "VERIFIED_CACHE_SIZE", 3)
    issued = [codec.issue(f"user-{n}").token for n in range(5)]
    assert [codec.subject(token) for token in issued] == [f"user-{n}" for n in range(5)]
    assert len(codec._verified) == 3  # the oldest two were dropped
    assert codec.subject(issued[0]) == "user-0"  # and verify again in full when seen again


@pytest.mark.parametrize("algorithm", ["ES256", "RS256"])
def test_a_key_pair_signs_with_its_kid_and_its_public_jwk_verifies(
    tmp_path: Path, algorithm: str
) -> None:
    settings = key_pair_settings(tmp_path, algorithm, key_for(algorithm))
    codec = TokenCodec.from_settings(settings)
    token = codec.issue("user-1").token
    [published] = settings.token_keys().public_jwks()
    assert jwt.get_unverified_header(token) == {
        "alg": algorithm,
        "typ": "JWT",
        "kid": published["kid"],
    }
    claims = jwt.decode(
        token, published, algorithms=[algorithm], audience=settings.jwt_audience
    )  # anyone with the JWKS alone
    assert claims["sub"] == "user-1" and codec.subject(token) == "user-1"


def test_a_shared_secret_token_carries_no_kid(codec: TokenCodec) -> None:
    assert "kid" not in jwt.get_unverified_header(codec.issue("user-1").token)
