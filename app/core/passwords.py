"""Password hashing with passlib's CryptContext (bcrypt), kept off the event loop.

bcrypt releases the GIL, so verifies in worker threads use every core while the loop
keeps serving other requests.
"""

from __future__ import annotations

import os
import unicodedata

import anyio
from passlib.context import CryptContext

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 72  # bcrypt's limit; bcrypt 5 raises beyond it instead of truncating


def normalize_password(password: str) -> str:
    """One normal form at registration and login, so visually equal passwords match."""
    return unicodedata.normalize("NFKC", password)


def password_problem(password: str) -> str | None:
    """Why a (normalised) password is unacceptable, or None. Never includes the value."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"Password must be at least {MIN_PASSWORD_CHARS} characters"
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return f"Password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8"
    return None


class PasswordHasher:
    def __init__(self, *, rounds: int, limiter: anyio.CapacityLimiter | None = None) -> None:
        self._context = CryptContext(schemes=["bcrypt"], bcrypt__rounds=rounds)
        # One thread per core: more would only queue bcrypt work behind itself.
        self._limiter = limiter or anyio.CapacityLimiter(os.cpu_count() or 1)

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._context.hash, password, limiter=self._limiter)

    async def verify(self, password: str, password_hash: str) -> tuple[bool, str | None]:
        """(matches, new hash when the stored one has outdated parameters)."""
        if password_problem(password) is not None:
            # Same cost as a real verify, so a too-long password reveals nothing by timing.
            await self.dummy_verify()
            return False, None
        result: tuple[bool, str | None] = await anyio.to_thread.run_sync(
            self._context.verify_and_update, password, password_hash, limiter=self._limiter
        )
        return result

    async def dummy_verify(self) -> None:
        """Spend one verify's time for an unknown account."""
        await anyio.to_thread.run_sync(self._context.dummy_verify, limiter=self._limiter)

    async def warm_up(self) -> None:
        # passlib builds its dummy hash on the first call, making it twice as slow as later ones.
        await self.dummy_verify()
