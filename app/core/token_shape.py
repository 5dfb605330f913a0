"""A token's outer shape and header, checked before any key or library parser sees it.

Hostile input must be a 401, never a 5xx: python-jose's own header parse let a header of
`[[[[...` 3,000 deep through to `json.loads`, whose RecursionError was a 500. Here the
length is bounded before anything is decoded, each segment must be base64url, and the
header must be a JSON object whose `alg` and `kid` are strings.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Final

from app.core.errors import AuthenticationError

# Our tokens are well under 1 KiB (an RS256 one with a 3072-bit signature is about 900
# characters); 8 KiB leaves room for claims added later and bounds every decode below.
MAX_ACCESS_TOKEN_CHARS: Final = 8 * 1024
INVALID_TOKEN: Final = "Invalid or expired token"  # noqa: S105 (a message)

_SEGMENT: Final = re.compile(r"[A-Za-z0-9_-]+")  # base64url without padding, ASCII only


@dataclass(frozen=True, slots=True)
class TokenHeader:
    alg: str
    kid: str | None


def read_header(token: str) -> TokenHeader:
    """The header of a compact JWS (three non-empty base64url segments), or a 401.

    Only `alg` and `kid` are read. `jku`, `x5u`, `jwk` and the like are ignored on purpose:
    a token never chooses the key that verifies it. `crit` names extensions that must be
    understood (RFC 7515 §4.1.11) and we understand none, so a token carrying it is refused.
    """
    if len(token) > MAX_ACCESS_TOKEN_CHARS:
        raise AuthenticationError(INVALID_TOKEN)
    segments = token.split(".")
    if len(segments) != 3 or not all(_SEGMENT.fullmatch(segment) for segment in segments):
        raise AuthenticationError(INVALID_TOKEN)
    header = _json_object(segments[0])
    alg, kid = header.get("alg"), header.get("kid")
    if not isinstance(alg, str) or not (kid is None or isinstance(kid, str)) or "crit" in header:
        raise AuthenticationError(INVALID_TOKEN)
    return TokenHeader(alg=alg, kid=kid)


def _json_object(segment: str) -> dict[str, object]:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw.decode("utf-8"))
    # binascii.Error, UnicodeDecodeError and JSONDecodeError are all ValueErrors;
    # RecursionError is the deeply nested array or object.
    except (ValueError, RecursionError):
        raise AuthenticationError(INVALID_TOKEN) from None
    if not isinstance(value, dict):
        raise AuthenticationError(INVALID_TOKEN)
    return value
