"""Opaque refresh tokens: random, shown to the client once, stored only as a SHA-256 hash.

A hash without salt is enough here: the token has 256 bits of entropy, so there is nothing
to guess, and a fast hash keeps the lookup a plain index scan.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32
MAX_TOKEN_CHARS = 128  # what requests may carry; real tokens are 43 characters


def new_refresh_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_refresh_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
