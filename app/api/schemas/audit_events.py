"""The audit trail, for admins (app/api/routes/audit_events.py)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from app.core.models import AuditEvent


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    type: str
    user_id: UUID | None = Field(description="Whom the event is about (kept after deletion)")
    actor_id: UUID | None = Field(description="Who did it: the user, an admin, or none (CLI)")
    address: str | None = Field(description="The client address of the request, if any")
    details: dict[str, JsonValue] = Field(
        description="Small flat facts (a session id, a reason, a channel); never a secret "
        "or an email"
    )

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventOut:
        return cls.model_validate(event)


class AuditEventsOut(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end"
    )
