"""Secrets in free text are masked before a log line or an error report leaves the process."""

from __future__ import annotations

from app.core.logging import REDACTED, redact
from app.core.passwords import PasswordHasher


async def test_a_bcrypt_hash_in_a_database_error_detail_is_masked() -> None:
    password_hash = await PasswordHasher(rounds=4).hash("correct horse battery")
    detail = f"Failing row contains (6f1c2b9e, ada@example.com, {password_hash}, null)."
    masked = redact(detail)
    assert password_hash not in masked and REDACTED in masked
    assert "ada@example.com" in masked  # only the secret goes


def test_bearer_tokens_and_jwts_are_masked() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
    masked = redact(f"Authorization: Bearer abc.def and {jwt}")
    assert "abc.def" not in masked and jwt not in masked
