"""Which migration revision the database is at (alembic's bookkeeping table)."""

from __future__ import annotations

import asyncpg

from app.repositories.base import Repository

SELECT_REVISIONS = "SELECT version_num FROM alembic_version"


class SchemaRepository(Repository):
    async def revisions(self) -> frozenset[str]:
        """The applied head revisions; empty when the database was never migrated."""
        async with self._connection("schema.revisions") as conn:
            try:
                rows = await conn.fetch(SELECT_REVISIONS)
            except asyncpg.UndefinedTableError:
                return frozenset()
        return frozenset(row["version_num"] for row in rows)
