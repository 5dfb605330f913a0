"""Logging in and staying logged in.

One answer (and one cost) for every kind of bad credentials, lockouts held in PostgreSQL,
refresh tokens that rotate and betray their replay, and an honest 503.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from app.core.emails import normalize_email
from app.core.errors import (
    AuthenticationError,
    AuthorizationError,
    DatabaseError,
    RateLimitError,
    ServiceUnavailableError,
    ValidationError,
)
from app.core.models import LoginOutcome, User
from app.core.passwords import PasswordHasher, normalize_password, password_problem
from app.core.refresh_tokens import hash_refresh_token, new_refresh_token
from app.core.tokens import IssuedToken, TokenCodec
from app.db.uow import UnitOfWork

INVALID_CREDENTIALS = "Invalid credentials"
INVALID_REFRESH_TOKEN = "Invalid or expired refresh token"  # noqa: S105 (a message)


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """Lockout thresholds (LOGIN_* settings) and the refresh-token lifetime."""

    max_failures: int
    max_failures_per_address: int
    window_seconds: int
    refresh_token_ttl: timedelta
    require_verified_email: bool = False  # REQUIRE_VERIFIED_EMAIL


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User
    access: IssuedToken
    refresh_token: str | None


@dataclass(frozen=True, slots=True)
class TokenPair:
    access: IssuedToken
    refresh_token: str


@dataclass(frozen=True, slots=True)
class _Verified:
    """A password that matched: whose, its attempt row, and a rehash if one is due."""

    user: User
    attempt_id: int
    new_hash: str | None


class AuthService:
    def __init__(self, *, hasher: PasswordHasher, tokens: TokenCodec, policy: LoginPolicy) -> None:
        self._hasher = hasher
        self._tokens = tokens
        self._policy = policy

    async def login(
        self,
        uow: UnitOfWork,
        *,
        email: str,
        password: str,
        client_address: str,
        issue_refresh_token: bool = True,
    ) -> LoginResult:
        try:
            verified = await self._verify_password(
                uow, email=email, password=password, client_address=client_address
            )
            user = verified.user
            if self._policy.require_verified_email and not user.email_verified:
                # The password was right, so this is no failure toward the lockout.
                await uow.login_attempts.finish(verified.attempt_id, LoginOutcome.INACTIVE)
                raise AuthorizationError("Email address not verified")
            async with uow.transaction():
                if verified.new_hash is not None:
                    await uow.users.update_password_hash(user.id, verified.new_hash)
                updated = await uow.users.update_last_login(user.id)
                if updated is None:  # deleted between the read and the update
                    raise AuthenticationError(INVALID_CREDENTIALS)
                await uow.login_attempts.finish(verified.attempt_id, LoginOutcome.SUCCESS)
                refresh_token = None
                if issue_refresh_token:
                    refresh_token = await self._issue_refresh_token(uow, user.id, uuid.uuid4())
            position = await uow.wal_position()  # after the commit: see read_router.py
        except DatabaseError as exc:
            # "Wrong password" while the database is down would mislead and feed lockouts.
            raise ServiceUnavailableError(retry_after=5) from exc
        return LoginResult(
            user=updated,
            access=self._tokens.issue(str(user.id), wal_position=position),
            refresh_token=refresh_token,
        )

    async def refresh(self, uow: UnitOfWork, *, refresh_token: str) -> TokenPair:
        """Spend a refresh token for a new pair in the same family.

        A token spent before is a replay: one of its two holders is not the user, so the
        whole family is revoked (committed) before the 401.
        """
        token_hash = hash_refresh_token(refresh_token)
        async with uow.transaction():
            grant = await uow.refresh_tokens.spend(token_hash)
            if grant is not None:
                user = await uow.users.get_by_id(grant.user_id)
                if user is None:
                    raise AuthenticationError(INVALID_REFRESH_TOKEN)
                if not user.is_active:
                    raise AuthorizationError("User is inactive")
                new_token = await self._issue_refresh_token(uow, user.id, grant.family_id)
                subject = str(user.id)
        if grant is not None:
            position = await uow.wal_position()  # after the commit: see read_router.py
            access = self._tokens.issue(subject, wal_position=position)
            return TokenPair(access=access, refresh_token=new_token)
        await uow.refresh_tokens.revoke_family_if_spent(token_hash)
        raise AuthenticationError(INVALID_REFRESH_TOKEN)

    async def logout(self, uow: UnitOfWork, *, user: User, refresh_token: str) -> None:
        """Revoke the family of one of the user's refresh tokens (again: still a success)."""
        if not await uow.refresh_tokens.revoke_family_of(
            hash_refresh_token(refresh_token), user_id=user.id
        ):
            raise AuthenticationError(INVALID_REFRESH_TOKEN)

    async def change_password(
        self,
        uow: UnitOfWork,
        *,
        user: User,
        current_password: str,
        new_password: str,
        client_address: str,
    ) -> None:
        """Same rules as registration; the current password is checked like a login (counted,
        locked out alike), and every refresh token of the user is revoked."""
        new_password = normalize_password(new_password)
        if (problem := password_problem(new_password)) is not None:
            raise ValidationError(details=[{"field": "new_password", "message": problem}])
        verified = await self._verify_password(
            uow, email=user.email, password=current_password, client_address=client_address
        )
        if verified.user.id != user.id:  # the email moved to another account meanwhile
            raise AuthenticationError(INVALID_CREDENTIALS)
        new_hash = await self._hasher.hash(new_password)
        async with uow.transaction():
            await uow.users.update_password_hash(user.id, new_hash)
            await uow.login_attempts.finish(verified.attempt_id, LoginOutcome.SUCCESS)
            await uow.refresh_tokens.revoke_all_of_user(user.id)

    async def user_for_token(self, uow: UnitOfWork, token: str) -> User:
        """The active user a valid access token names; the read may go to a replica that has
        replayed the session's last write (app/db/read_router.py)."""
        claims = self._tokens.claims(token)
        try:
            user_id = UUID(claims.subject)
        except ValueError as exc:
            raise AuthenticationError("Invalid or expired token") from exc
        uow.reads_after(claims.wal_position)
        user = await uow.users.get_by_id(user_id, replica_ok=True)
        if user is None:  # deleted since the token was issued
            raise AuthenticationError("Invalid or expired token")
        if not user.is_active:
            raise AuthorizationError("User is inactive")
        return user

    async def _verify_password(
        self, uow: UnitOfWork, *, email: str, password: str, client_address: str
    ) -> _Verified:
        """Check a password against the lockout and the account, recording the attempt.

        Every path does the same work (one lookup, one recorded attempt, one lockout read,
        one bcrypt verify, real or dummy), so an unknown email, a wrong password and a
        locked account cost the same time. Verifies run outside any transaction: no locks
        held while bcrypt works.
        """
        email = normalize_email(email)
        password = normalize_password(password)
        user = await uow.users.find_by_email(email)
        attempt_id = await uow.login_attempts.start(
            email=email, user_id=None if user is None else user.id, client_address=client_address
        )
        policy = self._policy
        seconds_locked = await uow.login_attempts.seconds_locked(
            attempt_id,
            max_failures=policy.max_failures,
            max_failures_per_address=policy.max_failures_per_address,
            window_seconds=policy.window_seconds,
        )
        # bcrypt below takes far longer than any query, and logins queue for its threads:
        # holding the connection meanwhile starved other requests of the pool
        # (docs/performance.md). What follows acquires again.
        await uow.release()
        if seconds_locked is not None:
            await self._hasher.dummy_verify()  # a lockout must not answer faster than a failure
            await uow.login_attempts.finish(attempt_id, LoginOutcome.LOCKED)
            raise RateLimitError(retry_after=seconds_locked)
        if user is None:
            await self._hasher.dummy_verify()
            matches, new_hash = False, None
        else:
            matches, new_hash = await self._hasher.verify(password, user.password_hash)
        if user is None or not matches:
            await uow.login_attempts.finish(attempt_id, LoginOutcome.FAILURE)
            raise AuthenticationError(INVALID_CREDENTIALS)
        if not user.is_active:
            await uow.login_attempts.finish(attempt_id, LoginOutcome.INACTIVE)
            raise AuthorizationError("User is inactive")
        return _Verified(user=user, attempt_id=attempt_id, new_hash=new_hash)

    async def _issue_refresh_token(self, uow: UnitOfWork, user_id: UUID, family_id: UUID) -> str:
        token = new_refresh_token()
        await uow.refresh_tokens.create(
            user_id=user_id,
            family_id=family_id,
            token_hash=hash_refresh_token(token),
            expires_at=datetime.now(UTC) + self._policy.refresh_token_ttl,
        )
        return token
