"""Password rules and hashing with passlib's CryptContext (bcrypt), kept off the event loop.

bcrypt releases the GIL, so verifies in worker threads use every core while the loop
keeps serving other requests. The queue in front of those threads is bounded: past
`max_queue` jobs waiting or running, a hash is refused at once with a 503 instead of
joining a queue whose wait would outlast every client's patience (load shedding).
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable
from typing import TypeVar

import anyio
from passlib.context import CryptContext

from app.core.common_passwords import is_common
from app.core.errors import ServiceUnavailableError

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 72  # bcrypt's limit; bcrypt 5 raises beyond it instead of truncating
COMMON_PASSWORD = "Password is too common: choose one not on lists of leaked passwords"  # noqa: S105 (a message)

T = TypeVar("T")


def normalize_password(password: str) -> str:
    """One normal form at registration and login, so visually equal passwords match."""
    return unicodedata.normalize("NFKC", password)


def password_problem(password: str) -> str | None:
    """Why a new (normalised) password is unacceptable, or None. Never includes the value.

    The one rule for every place a password is chosen: registration, change, reset.
    """
    if (problem := length_problem(password)) is not None:
        return problem
    if is_common(password):
        return COMMON_PASSWORD
    return None


def length_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_CHARS:
        return f"Password must be at least {MIN_PASSWORD_CHARS} characters"
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return f"Password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8"
    return None


class HasherBusyError(ServiceUnavailableError):
    """The bcrypt queue is full: nothing was hashed."""

    default_message = "Too busy to check passwords right now, try again shortly"


class PasswordHasher:
    def __init__(
        self, *, rounds: int, max_queue: int = 64, limiter: anyio.CapacityLimiter | None = None
    ) -> None:
        self._context = CryptContext(schemes=["bcrypt"], bcrypt__rounds=rounds)
        # One thread per core: more would only queue bcrypt work behind itself.
        self._limiter = limiter or anyio.CapacityLimiter(os.cpu_count() or 1)
        self._max_queue = max_queue
        self._queued = 0  # jobs waiting for or holding a thread, in this process

    @property
    def queued(self) -> int:
        return self._queued

    def ensure_capacity(self) -> None:
        """Refuse now, before any other work, when a hash would be refused anyway."""
        if self._queued >= self._max_queue:
            raise HasherBusyError(retry_after=1)

    async def hash(self, password: str) -> str:
        return await self._run(self._context.hash, password)

    async def verify(self, password: str, password_hash: str) -> tuple[bool, str | None]:
        """(matches, new hash when the stored one has outdated parameters)."""
        if length_problem(password) is not None:
            # Same cost as a real verify, so a too-long password reveals nothing by timing.
            await self.dummy_verify()
            return False, None
        result: tuple[bool, str | None] = await self._run(
            self._context.verify_and_update, password, password_hash
        )
        return result

    async def dummy_verify(self) -> None:
        """Spend one verify's time for an unknown account."""
        await self._run(self._context.dummy_verify)

    async def warm_up(self) -> None:
        # passlib builds its dummy hash on the first call, making it twice as slow as later ones.
        await self.dummy_verify()

    async def _run(self, job: Callable[..., T], *args: str) -> T:
        self.ensure_capacity()
        self._queued += 1  # one event loop: no lock needed between check and increment
        try:
            return await anyio.to_thread.run_sync(job, *args, limiter=self._limiter)
        finally:
            self._queued -= 1
