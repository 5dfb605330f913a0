"""Giving a connection back to its pool without costing the request a loop turn.

asyncpg's `Pool.release` runs the release in `asyncio.shield(...)`: a task of its own, so a
cancelled caller cannot strand the connection. That task starts only on the loop's next
turn, and the caller resumes one turn after it ends. Under load a turn is every other ready
request's CPU, and the connection sits idle but held all the while: at 2,000 req/s on one
worker that doubled the hold of a sub-millisecond SELECT and filled the pool, and the queue
for connections was GET /users/me's p99 (docs/performance.md, round 4).

When the release cannot wait for anything, the task buys nothing: no transaction to roll
back (the pools' reset hook, `keep_session` below, adds no query), no cancellation in
flight, no connection to close for age or for a pool generation change. Then this runs
the same steps `Pool.release` does, in the caller's task; they complete without suspending,
so no cancellation can come in between. Anything else goes through `Pool.release` as before.

The steps are asyncpg 0.32's (`asyncpg/pool.py`), private attributes included; the pin in
constraints.txt says so, and tests/db/test_pool_release.py fails if they stop holding.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy


async def keep_session(connection: asyncpg.Connection) -> None:
    """Release without asyncpg's reset query, which is a round trip per request.

    By default every release sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`. This code never leaves session state behind: settings are fixed at connect
    (`server_settings`) or SET LOCAL per transaction (behind PgBouncer), and it takes no
    advisory locks, holds no cursors outside a transaction and does not LISTEN. asyncpg
    still rolls back an open transaction before calling this, so a failed request cannot
    pass one on. Anything that starts using session state (SET without LOCAL, LISTEN,
    session advisory locks) must undo it itself.
    """


async def release(
    pool: asyncpg.Pool, connection: PoolConnectionProxy, *, timeout_seconds: float
) -> None:
    # Private to asyncpg, hence Any: the proxy's holder and the connection it wraps.
    holder: Any = getattr(connection, "_holder", None)
    raw: Any = getattr(connection, "_con", None)
    if holder is None or raw is None or not _releases_at_once(pool, connection, holder, raw):
        await pool.release(connection, timeout=timeout_seconds)
        return
    raw._on_release()  # Pool.release's first step
    await holder.release(timeout_seconds)  # its last, without the shield's task


def _releases_at_once(
    pool: asyncpg.Pool, connection: PoolConnectionProxy, holder: Any, raw: Any
) -> bool:
    """Whether PoolConnectionHolder.release would return the connection without awaiting
    anything: the conditions under which it would roll back, close or wait, negated."""
    if holder._pool is not pool or raw.is_closed():
        return False
    protocol = raw._protocol
    return (
        pool._reset is keep_session  # our hook, which cannot wait (a caller's might)
        and not connection.is_in_transaction()
        and raw._top_xact is None  # else Connection._reset sends a ROLLBACK
        and not protocol._is_cancelling()
        and protocol.queries_count < holder._max_queries
        and holder._generation == pool._generation
    )
