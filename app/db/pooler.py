"""How connections are opened and transactions begun, with or without PgBouncer in front.

Direct (DATABASE_POOLER=none): the timeouts are start-up parameters, fixed for the
connection's life, and asyncpg caches prepared statements per connection.

PgBouncer in transaction pooling mode (DATABASE_POOLER=pgbouncer): a server connection is
ours for one transaction only, so nothing may outlive one. PgBouncer refuses start-up
parameters it does not track ("unsupported startup parameter: statement_timeout"), and a
statement prepared on one server connection does not exist on the next. So: no statement
cache, `application_name` alone at start-up (PgBouncer tracks it), and the timeouts set
with SET LOCAL at the start of every transaction. A statement outside a transaction gets
the timeouts of the role PgBouncer logs in as, which the operator sets (docs/scaling.md).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from app.core.logging import get_logger
from app.core.settings import Settings

logger = get_logger("app.db")

ROLE_STATEMENT_TIMEOUT = "SELECT current_setting('statement_timeout')"


def idle_in_transaction_timeout_ms(settings: Settings) -> int:
    # A crashed request must never pin locks with an idle open transaction.
    return max(settings.db_statement_timeout_ms, 10000)


def behind_pgbouncer(settings: Settings) -> bool:
    return settings.database_pooler == "pgbouncer"


def connect_options(
    settings: Settings, *, application_name: str, timeouts: bool = True
) -> dict[str, Any]:
    """Keyword arguments for asyncpg.connect / create_pool on this deployment.

    `timeouts=False` for the health checker's own connections, which bound every call with
    a client-side timeout instead."""
    server_settings = {"application_name": application_name}
    if behind_pgbouncer(settings):
        return {"statement_cache_size": 0, "server_settings": server_settings}
    if timeouts:
        server_settings |= {
            "statement_timeout": str(settings.db_statement_timeout_ms),
            "idle_in_transaction_session_timeout": str(idle_in_transaction_timeout_ms(settings)),
        }
    return {"server_settings": server_settings}


def transaction_setup(settings: Settings) -> str | None:
    """SQL to run right after each outermost BEGIN, or None when start-up set it all."""
    if not behind_pgbouncer(settings):
        return None
    # Integers from validated settings, not user input: safe to format into the statement.
    return (
        f"SET LOCAL statement_timeout = {int(settings.db_statement_timeout_ms)}; "
        "SET LOCAL idle_in_transaction_session_timeout = "
        f"{int(idle_in_transaction_timeout_ms(settings))}"
    )


async def warn_without_role_timeout(pool: asyncpg.Pool, *, timeout_seconds: float) -> None:
    """Say so at start-up when, behind PgBouncer, a statement outside a transaction would run
    with no statement timeout: the role's setting is the operator's part (docs/scaling.md)."""
    try:
        async with pool.acquire(timeout=timeout_seconds) as connection:
            value = await connection.fetchval(ROLE_STATEMENT_TIMEOUT, timeout=timeout_seconds)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return  # the server is not there yet: the pool reports that itself when used
    if value == "0":
        logger.warning(
            "no statement_timeout on the database role behind PgBouncer: statements outside "
            "a transaction run unbounded; ALTER ROLE ... SET statement_timeout (docs/scaling.md)"
        )
