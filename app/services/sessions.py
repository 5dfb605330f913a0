"""A user's own sessions: listing them and ending one (logging out another device)."""

from __future__ import annotations

from uuid import UUID

from app.core.errors import NotFoundError
from app.core.models import AuditEventType, EndReason, Session
from app.db.uow import UnitOfWork


class SessionService:
    async def list_live(self, uow: UnitOfWork, *, user_id: UUID) -> list[Session]:
        return await uow.sessions.list_live(user_id)

    async def end(
        self,
        uow: UnitOfWork,
        *,
        user_id: UUID,
        session_id: UUID,
        client_address: str | None = None,
    ) -> None:
        """End one of the user's live sessions. Another user's session is as unknown as a
        made-up id (404): the answer does not tell whether it exists."""
        async with uow.transaction():
            if not await uow.sessions.end(session_id, user_id=user_id, reason=EndReason.REVOKED):
                raise NotFoundError("Session not found")
            await uow.audit_events.record(
                AuditEventType.SESSION_REVOKED,
                user_id=user_id,
                actor_id=user_id,
                address=client_address,
                details={"reason": "revoked", "session_id": str(session_id)},
            )
