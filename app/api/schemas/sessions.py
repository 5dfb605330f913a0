"""The caller's sessions (app/api/routes/sessions.py)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from app.core.models import Session


class SessionOut(BaseModel):
    id: UUID = Field(description="The `sid` claim of this session's access tokens")
    created_at: datetime = Field(description="When its login happened")
    last_used_at: datetime = Field(description="Its login or latest refresh")
    user_agent: str | None
    address: str | None = Field(description="The client address at login")
    current: bool = Field(description="Whether the token of this request belongs to it")

    @classmethod
    def of(cls, session: Session, *, current_id: UUID) -> SessionOut:
        # The Session's fields by name, so a column added to both comes along, and the one
        # fact that is the request's, not the session's. Not from_attributes: that would
        # read `current` off the Session too.
        return cls.model_validate(asdict(session) | {"current": session.id == current_id})


class SessionsOut(BaseModel):
    items: list[SessionOut]
