"""Discovery: the verification keys and the metadata document (app/api/routes/well_known.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class JwkOut(BaseModel):
    """A public key (RFC 7517): EC keys carry `crv`, `x`, `y`; RSA keys `n`, `e`."""

    kty: Literal["EC", "RSA"]
    kid: str = Field(description="RFC 7638 thumbprint; the `kid` in the tokens it signed")
    alg: Literal["ES256", "RS256"]
    use: Literal["sig"]
    crv: str | None = None
    x: str | None = None
    y: str | None = None
    n: str | None = None
    e: str | None = None


class JwksOut(BaseModel):
    keys: list[JwkOut] = Field(description="Empty when tokens are signed with a shared secret")


class OpenIdConfigurationOut(BaseModel):
    issuer: str = Field(description="The `iss` of our access tokens")
    jwks_uri: str
    token_endpoint: str
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    subject_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str] = Field(
        description="The access tokens' algorithm (this service issues no ID tokens)"
    )
