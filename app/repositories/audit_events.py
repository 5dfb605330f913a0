"""SQL for the audit trail: append-only rows written in the transaction of the change they
record (the app role may INSERT and SELECT them, nothing else)."""

from __future__ import annotations

from uuid import UUID

import orjson

from app.core.models import AuditDetails, AuditEventType
from app.repositories.base import Repository

RECORD = """
INSERT INTO audit_events (type, user_id, actor_id, address, details)
VALUES ($1, $2, $3, $4, $5::jsonb)
"""


class AuditEventRepository(Repository):
    async def record(
        self,
        type: AuditEventType,
        *,
        user_id: UUID | None,
        actor_id: UUID | None = None,
        address: str | None = None,
        details: AuditDetails | None = None,
    ) -> None:
        """Append one event. Refused outside a transaction: committed on its own, an event
        could outlive a change that then rolls back, or be missing from one that commits."""
        async with self._connection("audit_events.record") as conn:
            if not conn.is_in_transaction():
                raise RuntimeError("an audit event must be written in its change's transaction")
            await conn.execute(
                RECORD, type.value, user_id, actor_id, address, orjson.dumps(details or {}).decode()
            )
