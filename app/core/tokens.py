"""Access tokens: signed JWTs with strict decoding.

python-jose accepts any algorithm when none is given and does not require `exp` unless
told, so both are always passed explicitly here. The key comes from the token's header
(`kid`, app/core/keys.py) only after app/core/token_shape.py has checked that header.

Verified tokens are remembered (bounded, keyed by the exact token string, expiry still
checked on every use): a client sends the same token with each request, and the decode
was the largest single cost of GET /users/me after the framework (docs/performance.md).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from jose import jwt
from jose.exceptions import JOSEError

from app.core.errors import AuthenticationError
from app.core.keys import KeyRing
from app.core.settings import Settings
from app.core.token_shape import read_header

VERIFIED_CACHE_SIZE = 10_000

REQUIRED_CLAIMS = {
    "require_exp": True,
    "require_iat": True,
    "require_sub": True,
    "require_iss": True,
    "require_aud": True,
}

# The primary's WAL position after the session's last write, as an integer LSN.
WAL_POSITION_CLAIM = "wal"


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What a verified access token vouches for: the user (`sub`) and their session (`sid`).

    Frozen, so a cached value can be handed to every request that presents the token.
    """

    user_id: UUID
    session_id: UUID
    # Where the primary's WAL stood after the write that issued this token (login, refresh):
    # a replica may serve this session's reads once it has replayed that far
    # (app/db/read_router.py). None: issued with no replica configured.
    wal_position: int | None = None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int


class TokenCodec:
    def __init__(self, *, keys: KeyRing, expires_minutes: int, issuer: str, audience: str) -> None:
        self._keys = keys
        self._ttl = expires_minutes * 60
        self._issuer = issuer
        self._audience = audience
        # token -> (claims, exp). Only fully verified tokens get in; insertion-ordered, so
        # the oldest entry is the one dropped when full. It saves the signature check only:
        # whether the session is still live is asked of the database on every request.
        self._verified: dict[str, tuple[AccessClaims, int]] = {}

    @classmethod
    def from_settings(cls, settings: Settings, *, keys: KeyRing | None = None) -> TokenCodec:
        """`keys`: a ring already built from these settings (create_app builds it once)."""
        return cls(
            keys=keys or settings.token_keys(),
            expires_minutes=settings.jwt_expires_minutes,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )

    def issue(self, claims: AccessClaims) -> IssuedToken:
        now = int(time.time())
        payload: dict[str, Any] = {
            "sub": str(claims.user_id),
            "sid": str(claims.session_id),
            "iat": now,
            "exp": now + self._ttl,
            "iss": self._issuer,
            "aud": self._audience,
            "jti": uuid.uuid4().hex,
        }
        if claims.wal_position is not None:
            payload[WAL_POSITION_CLAIM] = claims.wal_position
        signing = self._keys.signing
        headers = None if signing.kid is None else {"kid": signing.kid}
        token = jwt.encode(payload, signing.signer, algorithm=signing.algorithm, headers=headers)
        return IssuedToken(token, self._ttl)

    def claims(self, token: str) -> AccessClaims:
        """The verified claims, or AuthenticationError for anything doubtful."""
        known = self._verified.get(token)
        if known is not None:
            claims, expires = known
            if time.time() < expires:
                return claims
            del self._verified[token]
            raise AuthenticationError("Invalid or expired token")
        claims, expires = self._decode(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (claims, expires)
        return claims

    def _decode(self, token: str) -> tuple[AccessClaims, int]:
        header = read_header(token)
        key = self._keys.verifier(alg=header.alg, kid=header.kid)
        if key is None:
            raise AuthenticationError("Invalid or expired token")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.verifier,
                algorithms=[key.algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options=REQUIRED_CLAIMS,
            )
        # JWKError is not a JWTError: catch the common base. The others come from a payload
        # that only a key holder can sign: jose's claim checks call int() on `exp`, `iat`
        # and `nbf` (a list, or 1e999), and json.loads on the payload (nested 3,000 deep).
        except (JOSEError, TypeError, OverflowError, RecursionError) as exc:
            raise AuthenticationError("Invalid or expired token") from exc
        expires = claims.get("exp")
        position = claims.get(WAL_POSITION_CLAIM)
        if not isinstance(expires, int):
            raise AuthenticationError("Invalid or expired token")
        if position is not None and (type(position) is not int or position < 0):
            raise AuthenticationError("Invalid or expired token")
        access = AccessClaims(
            user_id=_uuid_claim(claims, "sub"),
            session_id=_uuid_claim(claims, "sid"),
            wal_position=position,
        )
        return access, expires


def _uuid_claim(claims: dict[str, Any], name: str) -> UUID:
    """A claim that must hold a UUID in its canonical text form (a token without `sid`,
    issued before sessions existed, is refused here)."""
    value = claims.get(name)
    if not isinstance(value, str) or len(value) != 36:
        raise AuthenticationError("Invalid or expired token")
    try:
        return UUID(value)
    except ValueError as exc:
        raise AuthenticationError("Invalid or expired token") from exc
