"""The services one app uses, built once by create_app and typed, instead of loose
`app.state` attributes and a getter for each.

A new service: a field here, one keyword in create_app's `Services(...)`, and one
`Annotated` line in app/api/deps.py (`FooServiceDep`).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.metrics import Metrics
from app.services.account_deletion import AccountDeletionService
from app.services.admin import AdminService
from app.services.audit_trail import AuditTrailService
from app.services.auth import AuthService
from app.services.discovery import DiscoveryService
from app.services.email_verification import EmailVerificationService
from app.services.password_reset import PasswordResetService
from app.services.readiness import ReadinessService
from app.services.sessions import SessionService
from app.services.users import UserService


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
