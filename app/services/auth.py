"""Logging in: one answer for every kind of bad credentials, and an honest 503."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from app.core.errors import (
    AuthenticationError,
    AuthorizationError,
    DatabaseError,
    ServiceUnavailableError,
)
from app.core.models import User
from app.core.passwords import PasswordHasher, normalize_password
from app.core.tokens import IssuedToken, TokenCodec
from app.db.uow import UnitOfWork

INVALID_CREDENTIALS = "Invalid credentials"


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User
    access: IssuedToken


class AuthService:
    def __init__(self, *, hasher: PasswordHasher, tokens: TokenCodec) -> None:
        self._hasher = hasher
        self._tokens = tokens

    async def login(self, uow: UnitOfWork, *, email: str, password: str) -> LoginResult:
        password = normalize_password(password)
        try:
            user = await uow.users.find_by_email(email)
            # bcrypt below takes far longer than any query, and logins queue for its threads:
            # holding the connection meanwhile starved other requests of the pool
            # (docs/performance.md). The update after it acquires again.
            await uow.release()
            if user is None:
                # Same work as a wrong password, so timing does not reveal accounts.
                await self._hasher.dummy_verify()
                raise AuthenticationError(INVALID_CREDENTIALS)
            # Verify outside any transaction: no row locks or open transaction while bcrypt runs.
            matches, new_hash = await self._hasher.verify(password, user.password_hash)
            if not matches:
                raise AuthenticationError(INVALID_CREDENTIALS)
            if not user.is_active:
                raise AuthorizationError("User is inactive")
            async with uow.transaction():
                if new_hash is not None:
                    await uow.users.update_password_hash(user.id, new_hash)
                updated = await uow.users.update_last_login(user.id)
                if updated is None:  # deleted between the read and the update
                    raise AuthenticationError(INVALID_CREDENTIALS)
                access = self._tokens.issue(str(updated.id))
        except DatabaseError as exc:
            # "Wrong password" while the database is down would mislead and feed lockouts.
            raise ServiceUnavailableError(retry_after=5) from exc
        return LoginResult(user=updated, access=access)

    async def user_for_token(self, uow: UnitOfWork, token: str) -> User:
        """The active user a valid access token names; the read may go to a replica."""
        subject = self._tokens.subject(token)
        try:
            user_id = UUID(subject)
        except ValueError as exc:
            raise AuthenticationError("Invalid or expired token") from exc
        user = await uow.users.get_by_id(user_id, replica_ok=True)
        if user is None:  # deleted since the token was issued
            raise AuthenticationError("Invalid or expired token")
        if not user.is_active:
            raise AuthorizationError("User is inactive")
        return user
