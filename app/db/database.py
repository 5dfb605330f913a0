"""Connection pools for the process: opened and closed by the app's lifespan."""

from __future__ import annotations

import asyncpg

from app.core.metrics import Metrics
from app.core.settings import Settings
from app.db.monitor import DatabaseHooks, DatabaseMonitor
from app.db.uow import UnitOfWork


class Database:
    def __init__(self, settings: Settings, *, metrics: Metrics | None = None) -> None:
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set")
        self._url = settings.database_url
        self._settings = settings
        self._pool: asyncpg.Pool | None = None
        self._hooks = DatabaseHooks()
        if metrics is not None:
            self._hooks = DatabaseMonitor(
                metrics,
                self.pools,
                slow_query_ms=settings.db_slow_query_ms,
                hold_warn_seconds=settings.db_connection_hold_warn_seconds,
            )

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
        )

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(
            self.pool, acquire_timeout=self._settings.db_acquire_timeout_seconds, hooks=self._hooks
        )
