"""Connection pools for the process: opened and closed by the app's lifespan."""

from __future__ import annotations

import asyncpg

from app.core.settings import Settings
from app.db.uow import UnitOfWork


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Release without asyncpg's reset query, which is a round trip per request.

    By default every release sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`. This code never leaves session state behind: settings are fixed at connect
    (`server_settings`), and it takes no advisory locks, holds no cursors outside a
    transaction and does not LISTEN. asyncpg still rolls back an open transaction before
    calling this, so a failed request cannot pass one on. Anything that starts using
    session state (SET without LOCAL, LISTEN, session advisory locks) must undo it itself.
    """


class Database:
    def __init__(self, settings: Settings) -> None:
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set")
        self._url = settings.database_url
        self._settings = settings
        self._pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("database pool is not open")
        return self._pool

    def pools(self) -> dict[str, asyncpg.Pool]:
        """Every open pool by name ("primary", later one per replica), for metrics and health."""
        return {} if self._pool is None else {"primary": self._pool}

    async def open(self) -> None:
        s = self._settings
        self._pool = await asyncpg.create_pool(
            self._url,
            min_size=min(s.db_pool_min_size, s.db_pool_max_size),
            max_size=s.db_pool_max_size,
            timeout=s.db_acquire_timeout_seconds,  # connect timeout for new connections
            server_settings={
                "application_name": "auth-service",
                "statement_timeout": str(s.db_statement_timeout_ms),
                # A crashed request must never pin locks with an idle open transaction.
                "idle_in_transaction_session_timeout": str(max(s.db_statement_timeout_ms, 10000)),
            },
            reset=_keep_session,
        )

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.pool, acquire_timeout=self._settings.db_acquire_timeout_seconds)
