"""Logging in and staying logged in.

One answer (and one cost) for every kind of bad credentials, lockouts held in PostgreSQL,
sessions whose refresh tokens rotate and betray their replay, and an honest 503.

Each multi-step operation here serialises on the user or session row it changes, so a race
ends one way (the table in docs/security.md, "Races end one way").
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ParamSpec, TypeVar
from uuid import UUID

from app.core.emails import EmailProblem, normalize_email
from app.core.errors import (
    AuthenticationError,
    AuthorizationError,
    DatabaseError,
    RateLimitError,
    ServiceUnavailableError,
    ValidationError,
)
from app.core.models import AuditEventType, EndReason, LoginOutcome, User
from app.core.passwords import (
    HasherBusyError,
    PasswordHasher,
    normalize_password,
    password_problem,
)
from app.core.refresh_tokens import hash_refresh_token, new_refresh_token
from app.core.tokens import AccessClaims, IssuedToken, TokenCodec
from app.db.uow import UnitOfWork

INVALID_CREDENTIALS = "Invalid credentials"
INVALID_REFRESH_TOKEN = "Invalid or expired refresh token"  # noqa: S105 (a message)
INVALID_TOKEN = "Invalid or expired token"  # noqa: S105 (a message)
MAX_USER_AGENT_CHARS = 512  # sessions.user_agent


P = ParamSpec("P")
R = TypeVar("R")


def _outage_is_503(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """A database failure while checking or changing credentials is an outage (503), as
    in login: "wrong password" or a 500 would mislead."""

    @functools.wraps(method)
    async def translated(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(*args, **kwargs)
        except DatabaseError as exc:
            raise ServiceUnavailableError(retry_after=5) from exc

    return translated


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """Lockout thresholds (LOGIN_* settings), the refresh token's idle lifetime, the
    session's absolute one (SESSION_MAX_AGE_DAYS) and REQUIRE_VERIFIED_EMAIL."""

    max_failures: int
    max_failures_per_address: int
    window_seconds: int
    refresh_token_ttl: timedelta
    require_verified_email: bool = False
    # How long a successful login makes its address a known client of the account.
    known_client_ttl: timedelta = timedelta(days=30)
    session_max_age: timedelta = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class LoginResult:
    """A login through /login: a new session, its access token and its refresh token."""

    user: User
    access: IssuedToken
    refresh_token: str


@dataclass(frozen=True, slots=True)
class TokenResult:
    """A login through the OAuth2 password form (/token): a new session and its access
    token, no refresh token."""

    user: User
    access: IssuedToken


@dataclass(frozen=True, slots=True)
class Authenticated:
    """Who made a request, and with which session's token."""

    user: User
    claims: AccessClaims


@dataclass(frozen=True, slots=True)
class TokenPair:
    access: IssuedToken
    refresh_token: str


# What a login adds to its new session in the session's transaction: a refresh token for
# /login, nothing for /token. Generic so that each result type says which it got.
_SessionExtra = Callable[[UnitOfWork, UUID, UUID], Awaitable[R]]


async def _nothing_more(uow: UnitOfWork, user_id: UUID, session_id: UUID) -> None:
    return None


@dataclass(frozen=True, slots=True)
class CheckedPassword:
    """The caller's own password, checked like a login: its attempt row (pending until the
    change it allows commits) and the hash it matched, for a compare-and-set."""

    attempt_id: int
    password_hash: str


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
        user_agent: str | None = None,
    ) -> LoginResult:
        """Check the password and open a session with a refresh token."""
        user, access, refresh_token = await self._login(
            uow,
            email=email,
            password=password,
            client_address=client_address,
            user_agent=user_agent,
            extra=self._issue_refresh_token,
        )
        return LoginResult(user=user, access=access, refresh_token=refresh_token)

    async def login_for_token(
        self,
        uow: UnitOfWork,
        *,
        email: str,
        password: str,
        client_address: str,
        user_agent: str | None = None,
    ) -> TokenResult:
        """The same login, checks and lockouts as `login`, for the OAuth2 password form:
        a session and its access token, no refresh token."""
        user, access, _ = await self._login(
            uow,
            email=email,
            password=password,
            client_address=client_address,
            user_agent=user_agent,
            extra=_nothing_more,
        )
        return TokenResult(user=user, access=access)

    async def _login(
        self,
        uow: UnitOfWork,
        *,
        email: str,
        password: str,
        client_address: str,
        user_agent: str | None,
        extra: _SessionExtra[R],
    ) -> tuple[User, IssuedToken, R]:
        """Check the password and open a session with what `extra` adds to it.

        The password is checked outside any transaction; the commit then holds only if the
        hash it checked is still the user's (users.record_login, under the row lock), so a
        login that raced a password change fails instead of outliving it.
        """
        try:
            verified = await self._verify_password(
                uow, email=email, password=password, client_address=client_address
            )
            if self._policy.require_verified_email and not verified.user.email_verified:
                # The password was right, so this is no failure toward the lockout.
                await self._refused(
                    uow,
                    verified.attempt_id,
                    LoginOutcome.INACTIVE,
                    user_id=verified.user.id,
                    address=client_address,
                    reason="unverified",
                    via="login",
                )
                raise AuthorizationError("Email address not verified")
            result = None
            rechecked: _Verified | None = verified
            while rechecked is not None and result is None:
                result = await self._open_session(
                    uow,
                    rechecked,
                    address=client_address,
                    user_agent=user_agent,
                    extra=extra,
                )
                if result is None:  # the hash changed since it was checked
                    rechecked = await self._recheck(uow, rechecked, password)
            if result is None:  # password changed, user deactivated or deleted meanwhile
                await self._refused(
                    uow,
                    verified.attempt_id,
                    LoginOutcome.BAD_CREDENTIALS,
                    user_id=verified.user.id,
                    address=client_address,
                    via="login",
                )
                raise AuthenticationError(INVALID_CREDENTIALS)
        except DatabaseError as exc:
            # "Wrong password" while the database is down would mislead and feed lockouts.
            raise ServiceUnavailableError(retry_after=5) from exc
        return result

    async def _open_session(
        self,
        uow: UnitOfWork,
        verified: _Verified,
        *,
        address: str,
        user_agent: str | None,
        extra: _SessionExtra[R],
    ) -> tuple[User, IssuedToken, R] | None:
        """Commit a verified login as a new session; None if the hash it verified is no
        longer the active user's (nothing is written then)."""
        user_id = verified.user.id
        async with uow.transaction():
            updated = await uow.users.record_login(
                user_id, verified_hash=verified.user.password_hash, new_hash=verified.new_hash
            )
            if updated is None:
                return None
            await uow.login_attempts.finish(verified.attempt_id, LoginOutcome.SUCCESS)
            session_id = await uow.sessions.open(
                user_id,
                max_age=self._policy.session_max_age,
                user_agent=None if user_agent is None else user_agent[:MAX_USER_AGENT_CHARS],
                address=address,
            )
            added = await extra(uow, user_id, session_id)
            await uow.audit_events.record(
                AuditEventType.LOGIN,
                user_id=user_id,
                actor_id=user_id,
                address=address,
                details={"session_id": str(session_id)},
            )
        position = await uow.wal_position()  # after the commit: see read_router.py
        claims = AccessClaims(user_id=user_id, session_id=session_id, wal_position=position)
        return updated, self._tokens.issue(claims), added

    async def refresh(self, uow: UnitOfWork, *, refresh_token: str) -> TokenPair:
        """Spend a refresh token for a new pair in the same session.

        The refresh holds its session's row lock from the check to the commit, so a
        revocation either waits and then ends the session this extended, or went first and
        this fails. A token spent before is a replay: one of its two holders is not the
        user, so the whole session is ended (committed) before the 401.
        """
        token_hash = hash_refresh_token(refresh_token)
        minted: tuple[AccessClaims, str] | None = None
        async with uow.transaction():
            session_id = await uow.refresh_tokens.session_of(token_hash)
            # The session row is locked before the token row: the order a deletion takes
            # them in too (user, sessions, then tokens by cascade), so the two never wait
            # for each other in a cycle.
            user_id = None
            if session_id is not None:
                user_id = await uow.sessions.touch_for_refresh(session_id)
                if user_id is None:  # ended, past its lifetime, or the user inactive
                    raise AuthenticationError(INVALID_REFRESH_TOKEN)
            if user_id is not None and await uow.refresh_tokens.spend(token_hash) is not None:
                assert session_id is not None
                new_token = await self._issue_refresh_token(uow, user_id, session_id)
                minted = (AccessClaims(user_id=user_id, session_id=session_id), new_token)
        if minted is not None:
            claims, new_token = minted
            position = await uow.wal_position()  # after the commit: see read_router.py
            claims = dataclasses.replace(claims, wal_position=position)
            return TokenPair(access=self._tokens.issue(claims), refresh_token=new_token)
        await uow.sessions.end_of_spent_token(token_hash)
        raise AuthenticationError(INVALID_REFRESH_TOKEN)

    async def logout(
        self, uow: UnitOfWork, *, user: User, refresh_token: str, client_address: str | None = None
    ) -> None:
        """End the session of one of the user's refresh tokens (again: still a success, and
        no second event). A logout is a `session_revoked` event: it ends a session, like
        DELETE /users/me/sessions/{id}, and "who ended this session" has one answer."""
        async with uow.transaction():
            ended = await uow.sessions.end_of_token(
                hash_refresh_token(refresh_token), user_id=user.id, reason=EndReason.LOGOUT
            )
            if ended is None:
                raise AuthenticationError(INVALID_REFRESH_TOKEN)
            if ended:
                await uow.audit_events.record(
                    AuditEventType.SESSION_REVOKED,
                    user_id=user.id,
                    actor_id=user.id,
                    address=client_address,
                    details={"reason": "logout"},
                )

    @_outage_is_503
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
        locked out alike), and every session of the user ends.

        The new hash replaces only the hash the current password was checked against
        (users.replace_password_hash): of two racing changes the later one fails with 401
        instead of overwriting. A hash that changed meanwhile is checked once more (it may
        be a login's rehash of the same password).
        """
        new_password = normalize_password(new_password)
        if (problem := password_problem(new_password)) is not None:
            raise ValidationError(details=[{"field": "new_password", "message": problem}])
        verified = await self._verify_password(
            uow,
            email=user.email,
            password=current_password,
            client_address=client_address,
            via="password_change",
        )
        if verified.user.id != user.id:  # the email moved to another account meanwhile
            raise AuthenticationError(INVALID_CREDENTIALS)
        new_hash = await self._hasher.hash(new_password)
        changed = None
        rechecked: _Verified | None = verified
        while rechecked is not None and changed is None:
            async with uow.transaction():
                changed = await uow.users.replace_password_hash(
                    user.id, old_hash=rechecked.user.password_hash, new_hash=new_hash
                )
                if changed is not None:
                    await uow.login_attempts.finish(verified.attempt_id, LoginOutcome.SUCCESS)
                    await uow.sessions.end_all_for_user(user.id, reason=EndReason.PASSWORD_CHANGED)
                    await uow.audit_events.record(
                        AuditEventType.PASSWORD_CHANGED,
                        user_id=user.id,
                        actor_id=user.id,
                        address=client_address,
                    )
            if changed is None:  # the hash changed since it was checked
                rechecked = await self._recheck(uow, rechecked, current_password)
        if changed is None:
            await self._refused(
                uow,
                verified.attempt_id,
                LoginOutcome.BAD_CREDENTIALS,
                user_id=user.id,
                address=client_address,
                via="password_change",
            )
            raise AuthenticationError(INVALID_CREDENTIALS)

    @_outage_is_503
    async def check_own_password(
        self, uow: UnitOfWork, *, user: User, password: str, client_address: str, via: str
    ) -> CheckedPassword:
        """The signed-in user's password, checked like a login (counted, locked out, the
        same bcrypt work when wrong); 401 when wrong. The caller closes the attempt: with
        `password_refused` when its change finds the hash moved on, else in its change."""
        verified = await self._verify_password(
            uow, email=user.email, password=password, client_address=client_address, via=via
        )
        if verified.user.id != user.id:  # the email moved to another account meanwhile
            await self.password_refused(
                uow, verified.attempt_id, user_id=user.id, client_address=client_address, via=via
            )
            raise AuthenticationError(INVALID_CREDENTIALS)
        return CheckedPassword(
            attempt_id=verified.attempt_id, password_hash=verified.user.password_hash
        )

    async def password_refused(
        self, uow: UnitOfWork, attempt_id: int, *, user_id: UUID, client_address: str, via: str
    ) -> None:
        """A checked password whose change found the hash changed meanwhile: a failure."""
        await self._refused(
            uow,
            attempt_id,
            LoginOutcome.BAD_CREDENTIALS,
            user_id=user_id,
            address=client_address,
            via=via,
        )

    async def authenticate(self, uow: UnitOfWork, token: str) -> Authenticated:
        """The active user whose live session a valid access token names.

        The signature check may come from the codec's cache; the session check is one query
        on every request (it may go to a replica: docs/security.md says what that means).
        """
        claims = self._tokens.claims(token)
        uow.reads_after(claims.wal_position)  # a replica only once it has replayed our writes
        user = await uow.sessions.user_of_live_session(claims, replica_ok=True)
        if user is None:  # session ended or expired, user deactivated or deleted
            raise AuthenticationError(INVALID_TOKEN)
        return Authenticated(user=user, claims=claims)

    async def _verify_password(
        self,
        uow: UnitOfWork,
        *,
        email: str,
        password: str,
        client_address: str,
        via: str = "login",
    ) -> _Verified:
        """Check a password against the lockout and the account, recording the attempt.

        An unknown email and a wrong password do the same work (one lookup, one recorded
        attempt, one lockout read, one bcrypt verify, real or dummy), so they cost the same
        time. A locked account or address answers 429 with no verify at all: the 429
        already differs from a 401, and a flood of locked attempts must not queue bcrypt
        work (docs/security.md). Verifies run outside any transaction: no locks held while
        bcrypt works.
        """
        try:
            email = normalize_email(email)
        except EmailProblem:  # no account can have it, so it is not worth a row or a hash
            raise AuthenticationError(INVALID_CREDENTIALS) from None
        password = normalize_password(password)
        self._hasher.ensure_capacity()  # shed load before doing any work
        user = await uow.users.find_by_email(email)
        attempt_id = await uow.login_attempts.start(
            email=email, user_id=None if user is None else user.id, client_address=client_address
        )
        seconds_locked = await self._seconds_locked(uow, attempt_id)
        # bcrypt below takes far longer than any query, and logins queue for its threads:
        # holding the connection meanwhile starved other requests of the pool
        # (docs/performance.md). What follows acquires again.
        await uow.release()
        if seconds_locked is not None:
            await uow.login_attempts.finish(attempt_id, LoginOutcome.LOCKED)
            raise RateLimitError(retry_after=seconds_locked)
        try:
            if user is None:
                await self._hasher.dummy_verify()
                matches, new_hash = False, None
            else:
                matches, new_hash = await self._hasher.verify(password, user.password_hash)
        except HasherBusyError:  # the queue filled meanwhile: the password was never checked
            await uow.login_attempts.discard(attempt_id)
            raise
        if user is None or not matches:
            await self._refused(
                uow,
                attempt_id,
                LoginOutcome.BAD_CREDENTIALS,
                user_id=None if user is None else user.id,
                address=client_address,
                via=via,
            )
            raise AuthenticationError(INVALID_CREDENTIALS)
        if not user.is_active:
            await self._refused(
                uow,
                attempt_id,
                LoginOutcome.INACTIVE,
                user_id=user.id,
                address=client_address,
                via=via,
            )
            raise AuthorizationError("User is inactive")
        return _Verified(user=user, attempt_id=attempt_id, new_hash=new_hash)

    async def _refused(
        self,
        uow: UnitOfWork,
        attempt_id: int,
        outcome: LoginOutcome,
        *,
        user_id: UUID | None,
        address: str,
        via: str,
        reason: str | None = None,
    ) -> None:
        """Close a refused attempt and write its `login_failed` event in one transaction.
        An unknown email writes one too (no user id, and never the email): the two cases
        must cost the same, and the trail shows what an address tried. The event's reason
        is the outcome's name unless a finer one is given."""
        async with uow.transaction():
            await uow.login_attempts.finish(attempt_id, outcome)
            await uow.audit_events.record(
                AuditEventType.LOGIN_FAILED,
                user_id=user_id,
                address=address,
                details={"reason": reason or outcome.value, "via": via},
            )

    async def _seconds_locked(self, uow: UnitOfWork, attempt_id: int) -> int | None:
        policy = self._policy
        return await uow.login_attempts.seconds_locked(
            attempt_id,
            max_failures=policy.max_failures,
            max_failures_per_address=policy.max_failures_per_address,
            window_seconds=policy.window_seconds,
            known_client_seconds=int(policy.known_client_ttl.total_seconds()),
        )

    async def _recheck(
        self, uow: UnitOfWork, verified: _Verified, password: str
    ) -> _Verified | None:
        """After a compare-and-set found a hash other than the one verified: the password
        checked against the user's hash now, or None if it no longer matches (a password
        change) or the user is gone or inactive. A concurrent login's rehash keeps the
        password, so that login must not fail; each recheck needs the hash to have moved
        on, so a loop of them ends."""
        user = await uow.users.get_by_id(verified.user.id)
        await uow.release()  # no connection held while bcrypt works
        if user is None or not user.is_active or user.password_hash == verified.user.password_hash:
            return None
        matches, new_hash = await self._hasher.verify(
            normalize_password(password), user.password_hash
        )
        if not matches:
            return None
        return _Verified(user=user, attempt_id=verified.attempt_id, new_hash=new_hash)

    async def _issue_refresh_token(self, uow: UnitOfWork, user_id: UUID, session_id: UUID) -> str:
        token = new_refresh_token()
        await uow.refresh_tokens.create(
            user_id=user_id,
            session_id=session_id,
            token_hash=hash_refresh_token(token),
            expires_at=datetime.now(UTC) + self._policy.refresh_token_ttl,
        )
        return token
