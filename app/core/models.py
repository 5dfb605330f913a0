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
    # repr=False: a hash must never reach a log line through repr() of a user.
    password_hash: str = field(repr=False)


class LoginOutcome(StrEnum):
    """How a login attempt ended; 'pending' while the password is being checked."""

    PENDING = "pending"
    FAILURE = "failure"
    LOCKED = "locked"
    INACTIVE = "inactive"
    SUCCESS = "success"


@dataclass(frozen=True, slots=True)
class RefreshGrant:
    """What a just-spent refresh token vouches for: whose it was, and its family."""

    user_id: UUID
    family_id: UUID
