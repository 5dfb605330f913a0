"""The WAL position an access token carries for read-your-writes (app/db/read_router.py)."""

from __future__ import annotations

import dataclasses
import time
import uuid

import pytest
from jose import jwt

from app.core.errors import AuthenticationError
from app.core.keys import KeyRing
from app.core.tokens import WAL_POSITION_CLAIM, AccessClaims, TokenCodec

SECRET = "s" * 40
USER_1 = AccessClaims(user_id=uuid.UUID(int=1), session_id=uuid.UUID(int=101))


@pytest.fixture
def codec() -> TokenCodec:
    keys = KeyRing.shared_secret(SECRET, "HS256")
    return TokenCodec(keys=keys, expires_minutes=15, issuer="i", audience="a")


def signed(**claims: object) -> str:
    now = int(time.time())
    base = {
        "sub": str(USER_1.user_id),
        "sid": str(USER_1.session_id),
        "iat": now,
        "exp": now + 60,
        "iss": "i",
        "aud": "a",
    }
    token: str = jwt.encode(base | claims, SECRET, algorithm="HS256")
    return token


def test_the_position_travels_in_the_token(codec: TokenCodec) -> None:
    token = codec.issue(dataclasses.replace(USER_1, wal_position=0x1_6B37_4800)).token
    claims = codec.claims(token)
    assert (claims.user_id, claims.wal_position) == (USER_1.user_id, 0x1_6B37_4800)
    assert codec.claims(token) is claims  # the remembered copy carries it too


def test_a_token_issued_without_a_position_has_none(codec: TokenCodec) -> None:
    token = codec.issue(USER_1).token
    assert WAL_POSITION_CLAIM not in jwt.get_unverified_claims(token)
    assert codec.claims(token).wal_position is None


@pytest.mark.parametrize("position", ["0/16B3748", -1, 1.5, True, [1]])
def test_a_position_that_is_not_a_plain_lsn_is_refused(codec: TokenCodec, position: object) -> None:
    with pytest.raises(AuthenticationError):
        codec.claims(signed(**{WAL_POSITION_CLAIM: position}))
