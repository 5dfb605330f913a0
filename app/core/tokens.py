"""Access tokens: signed JWTs with strict decoding.

python-jose accepts any algorithm when none is given and does not require `exp` unless
told, so both are always passed explicitly here.

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
from app.core.settings import Settings

VERIFIED_CACHE_SIZE = 10_000

REQUIRED_CLAIMS = {
    "require_exp": True,
    "require_iat": True,
    "require_sub": True,
    "require_iss": True,
    "require_aud": True,
}


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What a verified access token vouches for: the user (`sub`) and their session (`sid`).

    Frozen, so a cached value can be handed to every request that presents the token.
    """

    user_id: UUID
    session_id: UUID


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int


class TokenCodec:
    def __init__(
        self, *, secret: str, algorithm: str, expires_minutes: int, issuer: str, audience: str
    ) -> None:
        self._secret = secret
        self._algorithm = algorithm
        self._ttl = expires_minutes * 60
        self._issuer = issuer
        self._audience = audience
        # token -> (claims, exp). Only fully verified tokens get in; insertion-ordered, so
        # the oldest entry is the one dropped when full. It saves the signature check only:
        # whether the session is still live is asked of the database on every request.
        self._verified: dict[str, tuple[AccessClaims, int]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenCodec:
        return cls(
            secret=settings.jwt_secret,
            algorithm=settings.jwt_algorithm,
            expires_minutes=settings.jwt_expires_minutes,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )

    def issue(self, claims: AccessClaims) -> IssuedToken:
        now = int(time.time())
        payload = {
            "sub": str(claims.user_id),
            "sid": str(claims.session_id),
            "iat": now,
            "exp": now + self._ttl,
            "iss": self._issuer,
            "aud": self._audience,
            "jti": uuid.uuid4().hex,
        }
        return IssuedToken(jwt.encode(payload, self._secret, algorithm=self._algorithm), self._ttl)

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
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[self._algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options=REQUIRED_CLAIMS,
            )
        except JOSEError as exc:  # JWKError is not a JWTError: catch the common base
            raise AuthenticationError("Invalid or expired token") from exc
        expires = claims.get("exp")
        if not isinstance(expires, int):
            raise AuthenticationError("Invalid or expired token")
        return AccessClaims(
            user_id=_uuid_claim(claims, "sub"), session_id=_uuid_claim(claims, "sid")
        ), expires


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
