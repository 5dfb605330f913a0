"""Readiness: may this process take traffic? Each failed check says which one it is."""

from __future__ import annotations

from app.core.errors import DatabaseError, ServiceUnavailableError
from app.db.uow import UnitOfWork

DATABASE_DOWN = "Not ready: the database does not answer"
SCHEMA_BEHIND = "Not ready: the database is not at the migration head"


class ReadinessService:
    def __init__(self, *, migration_heads: frozenset[str]) -> None:
        self._heads = migration_heads

    async def check(self, uow: UnitOfWork) -> None:
        try:
            revisions = await uow.schema.revisions()
        except DatabaseError as exc:
            raise ServiceUnavailableError(DATABASE_DOWN, retry_after=5) from exc
        if revisions != self._heads:
            raise ServiceUnavailableError(SCHEMA_BEHIND, retry_after=30)
