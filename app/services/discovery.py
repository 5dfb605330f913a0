"""What other services read to verify our tokens without holding a secret: the JWKS and
the discovery document (docs/integrating.md)."""

from __future__ import annotations

from typing import Any, Final

from app.core.keys import KeyRing

JWKS_PATH: Final = "/.well-known/jwks.json"
TOKEN_PATH: Final = "/api/v1/auth/token"  # noqa: S105 (a path)


class DiscoveryService:
    def __init__(self, *, keys: KeyRing, issuer: str, public_base_url: str | None) -> None:
        self._keys = keys
        self._issuer = issuer
        self._public_base_url = public_base_url

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public half of the signing key and of every verify key; none under HS*."""
        return {"keys": self._keys.public_jwks()}

    def openid_configuration(self, request_base_url: str) -> dict[str, Any]:
        """RFC 8414 / OpenID Connect Discovery fields that apply to a service that issues
        access tokens only (docs/integrating.md lists the ones left out, and why)."""
        base = (self._public_base_url or request_base_url).rstrip("/")
        return {
            "issuer": self._issuer,
            "jwks_uri": base + JWKS_PATH,
            "token_endpoint": base + TOKEN_PATH,
            "grant_types_supported": ["password"],
            "token_endpoint_auth_methods_supported": ["none"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [self._keys.algorithm],
        }
