"""How the unit of work takes connections from the pools, and what it reports meanwhile.

`PoolAccess` does the plain thing (acquire and release, report nothing): the CLI and tests
that build a unit of work by hand get it. `DatabaseMonitor` adds the metrics and the two
log lines an operator needs: a slow query, and a connection held suspiciously long; it is
also the repositories' QueryObserver.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from time import perf_counter

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from app.core.errors import AppError
from app.core.logging import get_logger
from app.core.metrics import Metrics, PoolSeries
from app.db.pool_release import release

logger = get_logger("app.db")


class PoolAccess:
    async def acquire(
        self, pool: asyncpg.Pool, *, name: str, timeout_seconds: float
    ) -> PoolConnectionProxy:
        """A connection from `pool`, which the metrics call `name` ("primary", "replica-0")."""
        return await pool.acquire(timeout=timeout_seconds)

    async def release(
        self, pool: asyncpg.Pool, connection: PoolConnectionProxy, *, timeout_seconds: float
    ) -> None:
        await release(pool, connection, timeout_seconds=timeout_seconds)


@dataclass(slots=True)
class _Hold:
    series: PoolSeries
    since: float
    watch: asyncio.TimerHandle | None


class DatabaseMonitor(PoolAccess):
    def __init__(self, metrics: Metrics, *, slow_query_ms: int, hold_warn_seconds: float) -> None:
        self._metrics = metrics
        self._slow_seconds = slow_query_ms / 1000 if slow_query_ms > 0 else None
        self._hold_warn_seconds = hold_warn_seconds if hold_warn_seconds > 0 else None
        self._holds: dict[int, _Hold] = {}  # id(connection) -> its hold, while held

    async def acquire(
        self, pool: asyncpg.Pool, *, name: str, timeout_seconds: float
    ) -> PoolConnectionProxy:
        series = self._metrics.pool(name)
        series.waiting.inc()
        started = perf_counter()
        try:
            connection = await pool.acquire(timeout=timeout_seconds)
        except TimeoutError:
            series.acquire_timeouts.inc()
            raise
        finally:
            series.waiting.dec()
        now = perf_counter()
        series.acquire_seconds.observe(now - started)
        watch = None
        if self._hold_warn_seconds is not None:
            # The callback runs in a copy of this context: its line names this request.
            watch = asyncio.get_running_loop().call_later(
                self._hold_warn_seconds, self._held_too_long, name, series
            )
        self._holds[id(connection)] = _Hold(series, now, watch)
        series.sample(pool)
        return connection

    async def release(
        self, pool: asyncpg.Pool, connection: PoolConnectionProxy, *, timeout_seconds: float
    ) -> None:
        hold = self._holds.pop(id(connection), None)
        try:
            await release(pool, connection, timeout_seconds=timeout_seconds)
        finally:
            if hold is not None:
                if hold.watch is not None:
                    hold.watch.cancel()
                hold.series.hold_seconds.observe(perf_counter() - hold.since)
                hold.series.sample(pool)

    def _held_too_long(self, pool: str, series: PoolSeries) -> None:
        series.hold_warnings.inc()
        logger.warning("connection held too long", pool=pool, held_seconds=self._hold_warn_seconds)

    def query_finished(self, operation: str, seconds: float) -> None:
        """A repository call ran for `seconds` (from having its connection to returning)."""
        series = self._metrics.operation(operation)
        series.seconds.observe(seconds)
        if self._slow_seconds is not None and seconds >= self._slow_seconds:
            series.slow.inc()
            logger.warning("slow query", operation=operation, duration_ms=round(seconds * 1000, 1))

    def query_failed(self, operation: str, error: AppError) -> None:
        """A repository call ended in `error` (already translated to a domain error)."""
        self._metrics.query_errors.labels(operation, type(error).__name__).inc()
