"""OpenAPI declarations of the envelope error responses a route can return."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import Depends, Response

from app.api.schemas.envelope import ErrorEnvelope

_DESCRIPTIONS = {
    400: "The one-time token is unknown, used or expired (InvalidTokenError)",
    401: "Missing, invalid or expired credentials",
    403: (
        "Not allowed (inactive user; unverified email when REQUIRE_VERIFIED_EMAIL is on; "
        "not an admin, on /admin routes)"
    ),
    404: "Not found",
    409: "Conflict (email already registered; an admin deactivating their own account)",
    413: "Request body too large",
    422: "Request does not validate",
    429: "Too many attempts",
    500: "Internal server error",
    503: "Database unavailable, or too busy to check passwords (Retry-After)",
}


def _description(status: int) -> str:
    """Ours where we have one, else the standard phrase: a route declaring a status we have
    not described must not fail the whole app at import."""
    if status in _DESCRIPTIONS:
        return _DESCRIPTIONS[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # not a registered status code (499, say)
        return f"Error {status}"


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Envelope responses for `statuses`, plus the ones any route can return."""
    return {
        status: {"model": ErrorEnvelope, "description": _description(status)}
        for status in sorted({*statuses, 413, 422, 500})
    }


async def no_store(response: Response) -> None:
    """For answers that carry a token: no cache or proxy may keep them (RFC 6749 5.1)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


# dependencies=NO_STORE on every route whose answer carries a token.
NO_STORE = [Depends(no_store)]
