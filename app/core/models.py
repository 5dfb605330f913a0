"""Domain objects returned by repositories and used by services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID


@dataclass(frozen=True, slots=True)
class User:
    id: UUID
    email: str
    full_name: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime
    last_login: datetime | None
    email_verified: bool
    is_admin: bool
    # repr=False: a hash must never reach a log line through repr() of a user.
    password_hash: str = field(repr=False)


class LoginOutcome(StrEnum):
    """How a login attempt ended: one set of names for the `outcome` label of
    auth_logins_total (what operators' dashboards and alerts name) and for
    login_attempts.outcome (migration 20261203_0009 renamed the stored 'failure').

    UNAVAILABLE is a metric's outcome only: the database was not reachable, so no row can
    record it. Until an attempt ends its row says 'pending' (`PENDING` in
    app/repositories/login_attempts.py), which is a state, not an outcome: no login ends
    pending and no metric counts it.
    """

    SUCCESS = "success"
    BAD_CREDENTIALS = "bad_credentials"  # unknown email or wrong password: lockouts count it
    INACTIVE = "inactive"  # the right password for a deactivated or unverified account
    LOCKED = "locked"  # refused by a lockout or the per-address limit; no password checked
    UNAVAILABLE = "unavailable"  # the database was down (503): never stored


@dataclass(frozen=True, slots=True)
class Session:
    """One login, as its owner sees it in their list of sessions."""

    id: UUID
    created_at: datetime
    last_used_at: datetime
    user_agent: str | None
    address: str | None


class EndReason(StrEnum):
    """Why a session ended (sessions.end_reason). Other branches add their own."""

    LOGOUT = "logout"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 (a reason, not a password)
    REVOKED = "revoked"  # by its owner, through DELETE /users/me/sessions/{id}
    REPLAY = "replay"  # a spent refresh token came back: one of its holders is a thief
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a reason, not a password)
    DELETED = "deleted"  # the user was deleted (the row goes too, in the same transaction)
    DEACTIVATED = "deactivated"  # an admin (or the CLI) deactivated the user


class AuditEventType(StrEnum):
    """What an audit event records (audit_events.type). Each is written in the transaction
    of the change itself, so a change never commits without its event, nor an event without
    its change."""

    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 (an event type, not a password)
    PASSWORD_RESET = "password_reset"  # noqa: S105 (an event type, not a password)
    EMAIL_VERIFIED = "email_verified"
    SESSION_REVOKED = "session_revoked"
    USER_DEACTIVATED = "user_deactivated"
    USER_ACTIVATED = "user_activated"
    USER_DELETED = "user_deleted"
    ADMIN_GRANTED = "admin_granted"
    ADMIN_REVOKED = "admin_revoked"


# What an event's details may hold: small flat facts, never a secret, never an email.
AuditDetails = dict[str, str | int | bool | None]


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One row of the audit trail, as an admin reads it."""

    id: int
    at: datetime
    type: str
    user_id: UUID | None
    actor_id: UUID | None
    address: str | None
    details: AuditDetails


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes an administrative change, as its audit event records it: an admin over
    HTTP (their id, the client address), or the command line (no id, `{"via": "cli"}`)."""

    id: UUID | None
    address: str | None = None
    via: str | None = None

    @classmethod
    def admin(cls, user: User, *, address: str | None) -> Actor:
        return cls(id=user.id, address=address)

    @classmethod
    def cli(cls) -> Actor:
        return cls(id=None, via="cli")

    def details(self) -> AuditDetails:
        return {} if self.via is None else {"via": self.via}
