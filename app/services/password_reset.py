"""Forgotten passwords: a one-time link by mail, then a new password.

A request answers the same, in the same time, whether or not the account exists: both
paths make a token, render the mail and run the same two statements in one short
transaction; only for a real, active account under its hourly limits do they write.
"""

from __future__ import annotations

from app.core.emails import EmailProblem, normalize_email
from app.core.errors import InvalidTokenError, ValidationError
from app.core.models import AuditEventType, EndReason
from app.core.one_time_tokens import TokenPurpose, hash_one_time_token
from app.core.passwords import PasswordHasher, normalize_password, password_problem
from app.db.uow import UnitOfWork
from app.services.one_time_links import LinkMailer


class PasswordResetService:
    def __init__(self, *, hasher: PasswordHasher, mailer: LinkMailer) -> None:
        self._hasher = hasher
        self._mailer = mailer

    async def request(self, uow: UnitOfWork, *, email: str, client_address: str) -> None:
        """Queue a reset mail for an active account, silently throttled."""
        try:
            email = normalize_email(email)
        except EmailProblem:
            return  # no account has it: the same 202, and what it says was in the request
        mail = self._mailer.prepare(TokenPurpose.RESET)
        async with uow.transaction():
            # The row lock serialises requests for one account: the throttle counts them all.
            user = await uow.users.lock_active_by_email(email)
            queued = await self._mailer.queue(
                uow, user, TokenPurpose.RESET, mail, requested_from=client_address
            )
        self._mailer.committed(queued)

    async def confirm(
        self,
        uow: UnitOfWork,
        *,
        token: str,
        new_password: str,
        client_address: str | None = None,
    ) -> None:
        """Spend the token, set the password (registration rules), mark the address verified
        (the mail reached it) and end every session of the user."""
        new_password = normalize_password(new_password)
        if (problem := password_problem(new_password)) is not None:
            raise ValidationError(details=[{"field": "new_password", "message": problem}])
        token_hash = hash_one_time_token(token)
        # Checked before hashing: a made-up token costs no bcrypt.
        if await uow.one_time_tokens.find_live(token_hash, TokenPurpose.RESET) is None:
            raise InvalidTokenError()
        await uow.release()  # no connection held while bcrypt works
        new_hash = await self._hasher.hash(new_password)
        async with uow.transaction():
            # The conditional UPDATE decides a race between two confirms: one spends it.
            user_id = await uow.one_time_tokens.spend(token_hash, TokenPurpose.RESET)
            if user_id is None:
                raise InvalidTokenError()
            await uow.one_time_tokens.spend_all_of_user(user_id, TokenPurpose.RESET)
            await uow.users.update_password_hash(user_id, new_hash)
            await uow.users.mark_email_verified(user_id)
            await uow.sessions.end_all_for_user(user_id, reason=EndReason.PASSWORD_RESET)
            await uow.audit_events.record(
                AuditEventType.PASSWORD_RESET,
                user_id=user_id,
                actor_id=user_id,
                address=client_address,
            )
