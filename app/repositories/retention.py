"""Retention deletes, shared by every table that is pruned: one batch of the oldest rows
past a cutoff per statement, so each transaction is short and locks few rows while the
server keeps serving (`auth-service db prune`)."""

from __future__ import annotations

from app.repositories.base import Connection

# $1: the age in seconds past which a row may go; $2: the batch size. A scalar subquery,
# computed once, so it can be an index condition (clock_timestamp() inline is volatile).
CUTOFF = "(SELECT clock_timestamp() - make_interval(secs => $1))"


def prune_batch_sql(table: str, condition: str) -> str:
    """A DELETE of at most $2 rows of `table` meeting `condition` (constants only); an
    index on the condition's columns finds them without reading the live rows."""
    return f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {condition} LIMIT $2)"


async def delete_batch(conn: Connection, sql: str, older_than_seconds: float, limit: int) -> int:
    status: str = await conn.execute(sql, older_than_seconds, limit)
    return int(status.rpartition(" ")[2])
