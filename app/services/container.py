"""The services one app uses, built once by create_app (`Services.build`) and typed,
instead of loose `app.state` attributes and a getter for each.

A new service: a field here and its construction in `build`, both in this file; the route
module that takes it declares its `FooServiceDep` (app/api/deps.py, `provide`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from app.core.keys import KeyRing
from app.core.mail import MailTemplates
from app.core.mail_metrics import MailMetrics
from app.core.metrics import Metrics
from app.core.passwords import PasswordHasher
from app.core.settings import Settings
from app.core.tokens import TokenCodec
from app.db.schema_head import migration_heads
from app.services.account_deletion import AccountDeletionService
from app.services.admin import AdminService
from app.services.audit_trail import AuditTrailService
from app.services.auth import AuthService, LoginPolicy
from app.services.discovery import DiscoveryService
from app.services.email_verification import EmailVerificationService
from app.services.one_time_links import LinkMailer, LinkPolicy
from app.services.password_reset import PasswordResetService
from app.services.readiness import ReadinessService
from app.services.sessions import SessionService
from app.services.users import RegistrationLimit, UserService


@dataclass(frozen=True, slots=True)
class Services:
    auth: AuthService
    users: UserService
    sessions: SessionService
    admin: AdminService
    password_reset: PasswordResetService
    email_verification: EmailVerificationService
    readiness: ReadinessService
    discovery: DiscoveryService
    account_deletion: AccountDeletionService
    audit_trail: AuditTrailService
    metrics: Metrics  # not a use case, but routes take it the same way (login outcomes, /metrics)

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        metrics: Metrics,
        hasher: PasswordHasher,
        tokens: TokenCodec,
        keys: KeyRing,
        mail_metrics: MailMetrics,
    ) -> Services:
        """Every service from the settings and the pieces create_app shares with the rest
        of the app (the registry's metrics, the hasher it warms up, the keys it serves)."""
        mailer = LinkMailer(
            templates=MailTemplates(),
            policy=LinkPolicy.from_settings(settings),
            metrics=mail_metrics,
        )
        verification = EmailVerificationService(mailer=mailer)
        policy = LoginPolicy(
            max_failures=settings.login_max_failures,
            max_failures_per_address=settings.login_max_failures_per_address,
            window_seconds=settings.login_failure_window_seconds,
            refresh_token_ttl=timedelta(days=settings.refresh_token_expires_days),
            require_verified_email=settings.require_verified_email,
            known_client_ttl=timedelta(days=settings.login_known_client_days),
            session_max_age=timedelta(days=settings.session_max_age_days),
        )
        auth = AuthService(hasher=hasher, tokens=tokens, policy=policy)
        return cls(
            auth=auth,
            users=UserService(
                hasher=hasher,
                limit=RegistrationLimit(
                    max_per_address=settings.register_max_per_address,
                    window_seconds=settings.register_window_seconds,
                ),
                verification=verification,
            ),
            sessions=SessionService(),
            admin=AdminService(),
            password_reset=PasswordResetService(hasher=hasher, mailer=mailer),
            email_verification=verification,
            readiness=ReadinessService(migration_heads=migration_heads()),
            discovery=DiscoveryService(
                keys=keys, issuer=settings.jwt_issuer, public_base_url=settings.public_base_url
            ),
            account_deletion=AccountDeletionService(auth=auth),
            audit_trail=AuditTrailService(),
            metrics=metrics,
        )
