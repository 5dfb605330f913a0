"""Administering accounts: listing users, deactivating and activating them, granting and
revoking admin. One service for the HTTP routes and the CLI, so both write the same events.

Each change is one transaction: the user row's UPDATE (which locks the row), what follows
from it, and its audit event, so a change never commits without its event nor an event
without its change. A change that changes nothing (deactivating an inactive user) writes
nothing and records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from app.core.cursors import Cursor
from app.core.emails import EmailProblem, normalize_email, normalize_email_prefix
from app.core.errors import ConflictError, NotFoundError
from app.core.models import Actor, AuditEventType, EndReason, User
from app.db.uow import UnitOfWork

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class UserPage:
    users: list[User]
    next: Cursor | None  # where the next page starts; None on the last page


class AdminService:
    async def list_users(
        self,
        uow: UnitOfWork,
        *,
        limit: int = DEFAULT_PAGE_SIZE,
        after: Cursor | None = None,
        email_prefix: str | None = None,
    ) -> UserPage:
        """One page in (created_at, id) order, after the cursor. Keyset, not OFFSET: users
        created while an admin pages neither shift a page nor make one repeat a row."""
        users = await uow.users.list_page(
            limit=limit + 1,  # one more than asked tells whether another page follows
            after=None if after is None else (after.created_at, after.id),
            email_prefix=normalize_email_prefix(email_prefix or ""),
        )
        if len(users) <= limit:
            return UserPage(users=users, next=None)
        last = users[limit - 1]
        return UserPage(users=users[:limit], next=Cursor(last.created_at, last.id))

    async def get_user(self, uow: UnitOfWork, *, user_id: UUID) -> User:
        return _found(await uow.users.get_by_id(user_id))

    async def find_user(self, uow: UnitOfWork, *, email: str) -> User:
        """The user with `email` (normalised as logins normalise it), or NotFoundError."""
        try:
            email = normalize_email(email)
        except EmailProblem:
            raise NotFoundError("User not found") from None
        return _found(await uow.users.find_by_email(email))

    async def deactivate(self, uow: UnitOfWork, *, user_id: UUID, actor: Actor) -> User:
        """Deactivate the user and end every session of theirs, in one transaction: after
        the commit none of their tokens works, and a login racing this either committed
        first (its session is ended here) or finds the user inactive."""
        if user_id == actor.id:
            raise ConflictError("An administrator cannot deactivate their own account")
        async with uow.transaction():
            # The UPDATE first: its row lock waits for a login holding the row, so the
            # sweep below (a later statement, a later snapshot) sees that login's session.
            changed = await uow.users.switch_active(user_id, False)
            if changed is None:
                return await self.get_user(uow, user_id=user_id)
            await uow.sessions.end_all_for_user(user_id, reason=EndReason.DEACTIVATED)
            await self._record(uow, AuditEventType.USER_DEACTIVATED, user_id, actor)
        return changed

    async def activate(self, uow: UnitOfWork, *, user_id: UUID, actor: Actor) -> User:
        """Let the user log in again. No ended session comes back to life."""
        async with uow.transaction():
            changed = await uow.users.switch_active(user_id, True)
            if changed is None:
                return await self.get_user(uow, user_id=user_id)
            await self._record(uow, AuditEventType.USER_ACTIVATED, user_id, actor)
        return changed

    async def set_admin(self, uow: UnitOfWork, *, user_id: UUID, admin: bool, actor: Actor) -> User:
        """Grant or revoke admin. Effective on the user's next request: the admin routes
        read the flag in the session check's own query."""
        event = AuditEventType.ADMIN_GRANTED if admin else AuditEventType.ADMIN_REVOKED
        async with uow.transaction():
            changed = await uow.users.switch_admin(user_id, admin)
            if changed is None:
                return await self.get_user(uow, user_id=user_id)
            await self._record(uow, event, user_id, actor)
        return changed

    @staticmethod
    async def _record(uow: UnitOfWork, event: AuditEventType, user_id: UUID, actor: Actor) -> None:
        await uow.audit_events.record(
            event,
            user_id=user_id,
            actor_id=actor.id,
            address=actor.address,
            details=actor.details(),
        )


def _found(user: User | None) -> User:
    if user is None:
        raise NotFoundError("User not found")
    return user
