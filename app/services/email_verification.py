"""Proving an address: registration queues a mail with a one-time link, confirming it sets
`email_verified`, and a logged-in user can ask for another mail (throttled)."""

from __future__ import annotations

from app.core.errors import InvalidTokenError
from app.core.models import AuditEventType, User
from app.core.one_time_tokens import TokenPurpose, hash_one_time_token
from app.db.uow import UnitOfWork
from app.services.one_time_links import LinkMailer


class EmailVerificationService:
    def __init__(self, *, mailer: LinkMailer) -> None:
        self._mailer = mailer

    async def queue_for_new_user(self, uow: UnitOfWork, user: User) -> bool:
        """Inside the registration's transaction: the user and its mail commit together.
        The caller counts it with `committed()` after the commit."""
        mail = self._mailer.prepare(TokenPurpose.VERIFY)
        return await self._mailer.queue(uow, user, TokenPurpose.VERIFY, mail)

    def committed(self, queued: bool) -> None:
        self._mailer.committed(queued)

    async def resend(self, uow: UnitOfWork, *, user: User) -> None:
        """Queue another verification mail; nothing when verified or over the hourly limit."""
        if user.email_verified:
            return
        mail = self._mailer.prepare(TokenPurpose.VERIFY)
        async with uow.transaction():
            locked = await uow.users.lock_active_by_email(user.email)  # serialises re-sends
            queued = (
                locked is not None
                and not locked.email_verified
                and await self._mailer.queue(uow, locked, TokenPurpose.VERIFY, mail)
            )
        self._mailer.committed(queued)

    async def confirm(
        self, uow: UnitOfWork, *, token: str, client_address: str | None = None
    ) -> None:
        async with uow.transaction():
            user_id = await uow.one_time_tokens.spend(
                hash_one_time_token(token), TokenPurpose.VERIFY
            )
            if user_id is None:
                raise InvalidTokenError()
            await uow.users.mark_email_verified(user_id)
            await uow.audit_events.record(
                AuditEventType.EMAIL_VERIFIED,
                user_id=user_id,
                actor_id=user_id,
                address=client_address,
            )
