"""The caller's own sessions: one per login, until it is logged out, revoked or expires."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status

from app.api.deps import ClientAddress, CurrentSession, Uow, provide
from app.api.json_limits import LimitedJsonRoute
from app.api.routes.responses import error_responses
from app.api.schemas.sessions import SessionOut, SessionsOut
from app.services.sessions import SessionService

SessionServiceDep = Annotated[SessionService, Depends(provide(lambda s: s.sessions))]

router = APIRouter(route_class=LimitedJsonRoute)  # attached in app.api.routes


@router.get(
    "",
    summary="The caller's sessions",
    description=(
        "Every live session of the caller, newest first; `current` marks the one whose "
        "access token made this request. Ended and expired sessions are not listed."
    ),
    responses=error_responses(401, 503),
)
async def list_sessions(
    caller: CurrentSession, uow: Uow, sessions: SessionServiceDep
) -> SessionsOut:
    live = await sessions.list_live(uow, user_id=caller.user.id)
    current_id = caller.claims.session_id
    return SessionsOut(items=[SessionOut.of(session, current_id=current_id) for session in live])


@router.delete(
    "/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="End one of the caller's sessions",
    description=(
        "Its refresh token and access tokens stop working at once (the current session "
        "too, if named). Another user's session and an unknown id are both a 404."
    ),
    responses=error_responses(401, 404, 503),
)
async def end_session(
    session_id: UUID,
    caller: CurrentSession,
    uow: Uow,
    sessions: SessionServiceDep,
    client_address: ClientAddress,
) -> None:
    await sessions.end(
        uow, user_id=caller.user.id, session_id=session_id, client_address=client_address
    )
