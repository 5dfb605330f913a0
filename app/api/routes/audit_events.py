"""The audit trail, for admins: newest first, filtered by user and type, paged by keyset."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from app.api.deps import CurrentAdmin, Uow, provide
from app.api.json_limits import LimitedJsonRoute
from app.api.routes.responses import error_responses
from app.api.schemas.audit_events import AuditEventOut, AuditEventsOut
from app.core.cursors import EVENT_CURSOR_CHARS, EventCursor
from app.core.models import AuditEventType
from app.services.audit_trail import AuditTrailService

AuditTrailServiceDep = Annotated[AuditTrailService, Depends(provide(lambda s: s.audit_trail))]

router = APIRouter(route_class=LimitedJsonRoute)  # attached in app.api.routes


@router.get(
    "",
    summary="The audit trail",
    description=(
        "Events newest first. `user_id` and `type` filter; `next_cursor`, passed back as "
        "`cursor`, gives the next page (keyset on the event id: no event is skipped or "
        "repeated while new ones are written). Every event was written in the transaction "
        "of the change it records."
    ),
    responses=error_responses(401, 403, 503),
)
async def list_audit_events(
    admin: CurrentAdmin,
    uow: Uow,
    trail: AuditTrailServiceDep,
    user_id: UUID | None = None,
    type: AuditEventType | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=EVENT_CURSOR_CHARS)] = None,
) -> AuditEventsOut:
    page = await trail.page(
        uow,
        limit=limit,
        user_id=user_id,
        type=type,
        before_id=None if cursor is None else EventCursor.decode(cursor, field="query.cursor").id,
    )
    return AuditEventsOut(
        items=[AuditEventOut.of(event) for event in page.events],
        next_cursor=None if page.last_id is None else EventCursor(page.last_id).encode(),
    )
