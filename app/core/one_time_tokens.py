"""One-time tokens (password reset, email verification): random, sent once inside a link,
stored only as a SHA-256 hash, single use, expiring.

The same scheme as refresh tokens (app.core.refresh_tokens): 256 random bits leave nothing
to guess, so an unsalted fast hash is enough and the lookup stays an index scan.
"""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum
from urllib.parse import urlsplit

TOKEN_BYTES = 32
MAX_TOKEN_CHARS = 1024  # a sanity bound on what requests may carry; real tokens are 43


class TokenPurpose(StrEnum):
    RESET = "reset"
    VERIFY = "verify"


def new_one_time_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_one_time_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def link_with_token(url: str, token: str) -> str:
    """The configured URL with `?token=` (or `&token=` when it already has a query) appended.

    url-safe base64 needs no escaping in a query string.
    """
    separator = "&" if urlsplit(url).query else "?"
    return f"{url}{separator}token={token}"
