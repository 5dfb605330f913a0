"""Reading the audit trail (writing it is each flow's own job, in its own transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from app.core.models import AuditEvent, AuditEventType
from app.db.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class AuditPage:
    events: list[AuditEvent]
    last_id: int | None  # where the next page starts (exclusive); None at the end


class AuditTrailService:
    async def page(
        self,
        uow: UnitOfWork,
        *,
        limit: int,
        user_id: UUID | None = None,
        type: AuditEventType | None = None,
        before_id: int | None = None,
    ) -> AuditPage:
        """Up to `limit` events, newest first; one more is read to tell whether any follow."""
        events = await uow.audit_events.page(
            limit=limit + 1,
            user_id=user_id,
            type=None if type is None else type.value,
            before_id=before_id,
        )
        page = events[:limit]
        return AuditPage(events=page, last_id=page[-1].id if len(events) > limit else None)
