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
        # token -> (subject, exp). Only fully verified tokens get in; insertion-ordered, so
        # the oldest entry is the one dropped when full.
        self._verified: dict[str, tuple[str, int]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenCodec:
        return cls(
            secret=settings.jwt_secret_value,
            algorithm=settings.jwt_algorithm,
            expires_minutes=settings.jwt_expires_minutes,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )

    def issue(self, subject: str) -> IssuedToken:
        now = int(time.time())
        claims = {
            "sub": subject,
            "iat": now,
            "exp": now + self._ttl,
            "iss": self._issuer,
            "aud": self._audience,
            "jti": uuid.uuid4().hex,
        }
        return IssuedToken(jwt.encode(claims, self._secret, algorithm=self._algorithm), self._ttl)

    def subject(self, token: str) -> str:
        """The verified `sub` claim, or AuthenticationError for anything doubtful."""
        known = self._verified.get(token)
        if known is not None:
            subject, expires = known
            if time.time() < expires:
                return subject
            del self._verified[token]
            raise AuthenticationError("Invalid or expired token")
        subject, expires = self._decode(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (subject, expires)
        return subject

    def _decode(self, token: str) -> tuple[str, int]:
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
        subject = claims.get("sub")
        expires = claims.get("exp")
        if not isinstance(subject, str) or not subject or not isinstance(expires, int):
            raise AuthenticationError("Invalid or expired token")
        return subject, expires
