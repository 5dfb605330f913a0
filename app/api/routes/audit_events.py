"""The audit trail, for admins: newest first, filtered by user and type, paged by keyset."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from app.api.deps import AuditTrailServiceDep, CurrentAdmin, Uow
from app.api.json_limits import LimitedJsonRoute
from app.api.routes.responses import error_responses
from app.api.schemas import AuditEventOut, AuditEventsOut
from app.core.errors import ValidationError
from app.core.models import AuditEventType

router = APIRouter(route_class=LimitedJsonRoute)  # attached in app.api.routes

CURSOR_PREFIX = "ae1:"  # a version, so the cursor's form can change without misreading old ones
MAX_CURSOR_CHARS = 64


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id a page ends at; a cursor we did not make is a 422."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text.startswith(CURSOR_PREFIX) and (digits := text[len(CURSOR_PREFIX) :]).isdigit():
            return int(digits)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ValidationError(details=[{"field": "cursor", "message": "Not a valid cursor"}])


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
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_CHARS)] = None,
) -> AuditEventsOut:
    page = await trail.page(
        uow,
        limit=limit,
        user_id=user_id,
        type=type,
        before_id=None if cursor is None else decode_cursor(cursor),
    )
    return AuditEventsOut(
        items=[AuditEventOut.of(event) for event in page.events],
        next_cursor=None if page.last_id is None else encode_cursor(page.last_id),
    )
