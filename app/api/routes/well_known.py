"""Published for other services: the keys that verify our access tokens, and the discovery
document that points at them (docs/integrating.md)."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Request, Response

from app.api.deps import provide
from app.api.schemas.well_known import JwksOut, OpenIdConfigurationOut
from app.services.discovery import DiscoveryService

# Verifiers cache these for this long. Rotation (docs/operations.md) publishes a new key and
# waits at least this long before signing with it, so every cache holds it by then; 5
# minutes keeps that wait, and a removed key's afterlife in caches, well inside one access-
# token lifetime (15 minutes), at one fetch per verifier per 5 minutes.
MAX_AGE_SECONDS: Final = 300
CACHE_CONTROL: Final = f"public, max-age={MAX_AGE_SECONDS}"

DiscoveryServiceDep = Annotated[DiscoveryService, Depends(provide(lambda s: s.discovery))]

router = APIRouter()  # attached in app.api.routes


@router.get(
    "/jwks.json",
    summary="Token verification keys (JWKS)",
    description=(
        "The public keys that verify access tokens, each named by the `kid` in the token "
        "header. Empty when tokens are signed with a shared secret (HS256/384/512). "
        f"Cacheable for {MAX_AGE_SECONDS} s."
    ),
    response_model_exclude_none=True,
)
async def jwks(response: Response, discovery: DiscoveryServiceDep) -> JwksOut:
    response.headers["Cache-Control"] = CACHE_CONTROL
    return JwksOut.model_validate(discovery.jwks())


@router.get(
    "/openid-configuration",
    summary="Discovery document",
    description=(
        "Issuer, JWKS URL, token endpoint and signing algorithm (OpenID Connect Discovery / "
        "RFC 8414 fields that apply to a service issuing access tokens only)."
    ),
)
async def openid_configuration(
    request: Request, response: Response, discovery: DiscoveryServiceDep
) -> OpenIdConfigurationOut:
    response.headers["Cache-Control"] = CACHE_CONTROL
    document = discovery.openid_configuration(str(request.base_url))
    return OpenIdConfigurationOut.model_validate(document)
