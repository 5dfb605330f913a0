"""Registration and profile use cases."""

from __future__ import annotations

from app.core.emails import normalize_email
from app.core.errors import ValidationError
from app.core.models import User
from app.core.passwords import PasswordHasher, normalize_password, password_problem
from app.db.uow import UnitOfWork
from app.services.email_verification import EmailVerificationService


class UserService:
    def __init__(
        self, *, hasher: PasswordHasher, verification: EmailVerificationService | None = None
    ) -> None:
        self._hasher = hasher
        self._verification = verification

    async def register(
        self, uow: UnitOfWork, *, email: str, password: str, full_name: str | None = None
    ) -> User:
        password = normalize_password(password)
        if (problem := password_problem(password)) is not None:
            raise ValidationError(details=[{"field": "password", "message": problem}])
        password_hash = await self._hasher.hash(password)
        queued = False
        async with uow.transaction():
            user = await uow.users.create(
                email=normalize_email(email), password_hash=password_hash, full_name=full_name
            )
            if self._verification is not None:
                queued = await self._verification.queue_for_new_user(uow, user)
        if self._verification is not None:
            self._verification.committed(queued)
        return user
