"""Domain objects returned by repositories and used by services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
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
    # repr=False: a hash must never reach a log line through repr() of a user.
    password_hash: str = field(repr=False)
