"""What password-reset and verification mails share: the link settings and limits, and
queueing a mail with a fresh one-time token inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from app.core.mail import MailContent, MailTemplates
from app.core.mail_metrics import MailMetrics
from app.core.models import User
from app.core.one_time_tokens import (
    TokenPurpose,
    hash_one_time_token,
    link_with_token,
    new_one_time_token,
)
from app.core.settings import Settings
from app.db.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class LinkPolicy:
    """PASSWORD_RESET_* / EMAIL_VERIFY_* settings."""

    reset_url: str
    reset_ttl: timedelta
    verify_url: str
    verify_ttl: timedelta
    max_per_hour: int
    max_per_address: int

    @classmethod
    def from_settings(cls, settings: Settings) -> LinkPolicy:
        return cls(
            reset_url=settings.password_reset_url,
            reset_ttl=timedelta(minutes=settings.password_reset_token_minutes),
            verify_url=settings.email_verify_url,
            verify_ttl=timedelta(hours=settings.email_verify_token_hours),
            max_per_hour=settings.password_reset_max_per_hour,
            max_per_address=settings.password_reset_max_per_address,
        )


@dataclass(frozen=True, slots=True)
class PreparedMail:
    """A token and the mail carrying its link, made before knowing whether it is needed
    (a reset request does the same work for a known and an unknown email)."""

    token_hash: bytes
    content: MailContent


class LinkMailer:
    def __init__(
        self, *, templates: MailTemplates, policy: LinkPolicy, metrics: MailMetrics | None
    ) -> None:
        self.templates = templates
        self.policy = policy
        self._metrics = metrics

    def prepare(self, purpose: TokenPurpose) -> PreparedMail:
        token = new_one_time_token()
        p = self.policy
        if purpose is TokenPurpose.RESET:
            minutes = int(p.reset_ttl.total_seconds() // 60)
            content = self.templates.password_reset(
                link=link_with_token(p.reset_url, token), minutes=minutes
            )
        else:
            hours = int(p.verify_ttl.total_seconds() // 3600)
            content = self.templates.verify_email(
                link=link_with_token(p.verify_url, token), hours=hours
            )
        return PreparedMail(token_hash=hash_one_time_token(token), content=content)

    async def queue(
        self,
        uow: UnitOfWork,
        user: User | None,
        purpose: TokenPurpose,
        mail: PreparedMail,
        *,
        requested_from: str | None = None,
    ) -> bool:
        """Store the token and queue its mail, unless a throttle says no; True if queued.
        With no user the same statement runs and writes nothing (the same answer time).

        Must run inside the caller's transaction, holding the user's row lock when
        throttles matter: the token, the mail and the change causing them commit together.
        """
        p = self.policy
        return await uow.one_time_tokens.issue_with_mail(
            user_id=None if user is None else user.id,
            purpose=purpose,
            token_hash=mail.token_hash,
            ttl=p.reset_ttl if purpose is TokenPurpose.RESET else p.verify_ttl,
            recipient="" if user is None else user.email,
            content=mail.content,
            max_per_hour=p.max_per_hour,
            requested_from=requested_from,
            max_per_address=p.max_per_address,
        )

    def committed(self, queued: bool) -> None:
        """Count a queued mail once its transaction has committed."""
        if queued and self._metrics is not None:
            self._metrics.queued.inc()
