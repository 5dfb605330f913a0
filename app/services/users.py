"""Registration and profile use cases."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.emails import EmailProblem, normalize_email
from app.core.errors import RateLimitError, ValidationError
from app.core.models import User
from app.core.passwords import PasswordHasher, normalize_password, password_problem
from app.db.uow import UnitOfWork
from app.services.email_verification import EmailVerificationService


@dataclass(frozen=True, slots=True)
class RegistrationLimit:
    """REGISTER_MAX_PER_ADDRESS registrations per REGISTER_WINDOW_SECONDS per address."""

    max_per_address: int = 10
    window_seconds: int = 3600


class UserService:
    def __init__(
        self,
        *,
        hasher: PasswordHasher,
        limit: RegistrationLimit | None = None,
        verification: EmailVerificationService | None = None,
    ) -> None:
        self._hasher = hasher
        self._limit = limit or RegistrationLimit()
        self._verification = verification

    async def register(
        self,
        uow: UnitOfWork,
        *,
        email: str,
        password: str,
        full_name: str | None = None,
        client_address: str | None = None,
    ) -> User:
        """Create an account. With a `client_address` (every API request; the CLI has
        none) the registration counts against that address's limit first: each one costs
        a bcrypt hash, and the count is taken before any is spent."""
        try:
            email = normalize_email(email)
        except EmailProblem as exc:
            raise ValidationError(details=[{"field": "email", "message": str(exc)}]) from None
        password = normalize_password(password)
        if (problem := password_problem(password)) is not None:
            raise ValidationError(details=[{"field": "password", "message": problem}])
        if client_address is not None:
            async with uow.transaction():
                retry_after = await uow.registration_attempts.admit(
                    client_address,
                    max_per_window=self._limit.max_per_address,
                    window_seconds=self._limit.window_seconds,
                )
            if retry_after is not None:
                raise RateLimitError(
                    "Too many registrations from this address, try again later",
                    retry_after=retry_after,
                )
        password_hash = await self._hasher.hash(password)
        queued = False
        async with uow.transaction():
            user = await uow.users.create(
                email=email, password_hash=password_hash, full_name=full_name
            )
            if self._verification is not None:
                queued = await self._verification.queue_for_new_user(uow, user)
        if self._verification is not None:
            self._verification.committed(queued)
        return user
