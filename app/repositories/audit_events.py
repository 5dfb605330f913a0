"""SQL for the audit trail: append-only rows written in the transaction of the change they
record (the app role may INSERT and SELECT them, nothing else; docs/security.md)."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import orjson

from app.core.models import AuditDetails, AuditEvent, AuditEventType
from app.repositories.base import Repository
from app.repositories.retention import CUTOFF, delete_batch, prune_batch_sql

RECORD = """
INSERT INTO audit_events (type, user_id, actor_id, address, details)
VALUES ($1, $2, $3, $4, $5::jsonb)
"""

# The app role cannot UPDATE audit rows: this SECURITY DEFINER function (revision
# 20261202_0008, owned by the schema owner) clears address and details of one user's events,
# and nothing else.
ANONYMISE_FOR_USER = "SELECT anonymise_audit_events($1)"

# Newest first, keyset on id. Only the filters asked for go into the WHERE clause (fixed
# clauses, numbered as they are added), so each combination is its own statement whose plan
# uses audit_events_user_id_idx or audit_events_type_idx; a generic plan of
# `$2 IS NULL OR user_id = $2` could use neither.
PAGE = """
SELECT id, at, type, user_id, actor_id, address, details
FROM audit_events
WHERE {where}
ORDER BY id DESC
LIMIT $1
"""
FILTERS = ("user_id = ${}", "type = ${}", "id < ${}")

# Retention (audit_events_at_idx, BRIN): run by the owner only (`db prune`).
PRUNE_BATCH = prune_batch_sql("audit_events", f"at < {CUTOFF}")


def event_of(row: asyncpg.Record) -> AuditEvent:
    values = dict(row)
    values["details"] = orjson.loads(values["details"])
    return AuditEvent(**values)


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

    async def anonymise_for_user(self, user_id: UUID) -> None:
        async with self._connection("audit_events.anonymise_for_user") as conn:
            await conn.execute(ANONYMISE_FOR_USER, user_id)

    async def page(
        self,
        *,
        limit: int,
        user_id: UUID | None = None,
        type: str | None = None,
        before_id: int | None = None,
    ) -> list[AuditEvent]:
        """Up to `limit` events, newest first, older than `before_id` when given."""
        clauses: list[str] = []
        args: list[object] = []
        for clause, value in zip(FILTERS, (user_id, type, before_id), strict=True):
            if value is not None:
                args.append(value)
                clauses.append(clause.format(len(args) + 1))
        sql = PAGE.format(where=" AND ".join(clauses) or "true")
        async with self._connection("audit_events.page") as conn:
            rows = await conn.fetch(sql, limit, *args)
        return [event_of(row) for row in rows]

    async def prune_batch(self, *, older_than_seconds: float, limit: int) -> int:
        """Delete up to `limit` events older than the cutoff (the owner's right only)."""
        async with self._connection("audit_events.prune") as conn:
            return await delete_batch(conn, PRUNE_BATCH, older_than_seconds, limit)
