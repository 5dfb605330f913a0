"""Deleting an account: by its owner (password checked like a login), by an admin, or from
the CLI. One transaction removes the user, their sessions, refresh and one-time tokens and
mails, anonymises their login attempts and audit events, and writes `user_deleted`.

Locks, in order (docs/security.md, "Races end one way"): the user's one-time tokens (a
confirm holding one finishes first), the user row (logins, changes and resets of this user
queue behind it), every live session (a refresh holding one finishes first, and one that
comes later finds it gone), then the row's delete, whose cascade takes the tokens.
A refresh locks session then token, a confirm token then user: neither waits on us in a
cycle.
"""

from __future__ import annotations

from uuid import UUID

from app.core.emails import EmailProblem, normalize_email
from app.core.errors import AuthenticationError, ConflictError, NotFoundError
from app.core.models import AuditEventType, EndReason, LoginOutcome, User
from app.db.uow import UnitOfWork
from app.services.auth import INVALID_CREDENTIALS, AuthService

USER_NOT_FOUND = "User not found"


class AccountDeletionService:
    def __init__(self, *, auth: AuthService | None = None) -> None:
        # Only self-deletion checks a password; the CLI builds this without one.
        self._auth = auth

    async def delete_own(
        self, uow: UnitOfWork, *, user: User, password: str, client_address: str
    ) -> None:
        """DELETE /users/me: a wrong password is a 401 that counts toward the lockout, and
        the account stays. A password changed since it was checked refuses it too."""
        if self._auth is None:
            raise RuntimeError("self-deletion needs the auth service to check the password")
        via = "self"
        checked = await self._auth.check_own_password(
            uow, user=user, password=password, client_address=client_address, via=via
        )
        deleted = await self._delete(
            uow,
            user.id,
            actor_id=user.id,
            address=client_address,
            via=via,
            verified_hash=checked.password_hash,
            attempt_id=checked.attempt_id,
        )
        if deleted is None:
            await self._auth.password_refused(
                uow, checked.attempt_id, user_id=user.id, client_address=client_address, via=via
            )
            raise AuthenticationError(INVALID_CREDENTIALS)

    async def delete_by_admin(
        self, uow: UnitOfWork, *, admin: User, user_id: UUID, client_address: str
    ) -> None:
        """DELETE /admin/users/{id}: 409 for the admin's own account (deleting yourself goes
        through DELETE /users/me, with your password), 404 for an unknown id."""
        if user_id == admin.id:
            raise ConflictError("An administrator cannot delete their own account here")
        if (
            await self._delete(uow, user_id, actor_id=admin.id, address=client_address, via="admin")
            is None
        ):
            raise NotFoundError(USER_NOT_FOUND)

    async def delete_by_email(self, uow: UnitOfWork, *, email: str) -> User:
        """`auth-service users delete EMAIL`: no actor, no address."""
        try:
            email = normalize_email(email)
        except EmailProblem:
            raise NotFoundError(USER_NOT_FOUND) from None
        user = await uow.users.find_by_email(email)
        deleted = (
            None
            if user is None
            else await self._delete(uow, user.id, actor_id=None, address=None, via="cli")
        )
        if deleted is None:
            raise NotFoundError(USER_NOT_FOUND)
        return deleted

    async def _delete(
        self,
        uow: UnitOfWork,
        user_id: UUID,
        *,
        actor_id: UUID | None,
        address: str | None,
        via: str,
        verified_hash: str | None = None,
        attempt_id: int | None = None,
    ) -> User | None:
        """The deletion, in one transaction; None (nothing written) when the user is gone or
        their hash is no longer `verified_hash`."""
        async with uow.transaction():
            await uow.one_time_tokens.delete_all_of_user(user_id)
            user = await uow.users.lock_for_deletion(user_id, verified_hash=verified_hash)
            if user is None:
                return None  # rolls the token delete back too
            await uow.sessions.end_all_for_user(user_id, reason=EndReason.DELETED)
            if attempt_id is not None:
                await uow.login_attempts.finish(attempt_id, LoginOutcome.SUCCESS)
            await uow.login_attempts.anonymise_for_user(user_id, email=user.email)
            await uow.mail_outbox.discard_for_recipient(user.email)
            await uow.audit_events.anonymise_for_user(user_id)
            # Written after the anonymising, so it keeps the actor's address, but never the
            # deleted user's own.
            await uow.audit_events.record(
                AuditEventType.USER_DELETED,
                user_id=user_id,
                actor_id=actor_id,
                address=None if actor_id == user_id else address,
                details={"via": via},
            )
            await uow.users.delete(user_id)
        return user
