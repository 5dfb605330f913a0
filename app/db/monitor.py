"""What the unit of work and the repositories report while they use the database.

`DatabaseHooks` does the plain thing (acquire, release, report nothing): the CLI and tests
that build a unit of work by hand get it. `DatabaseMonitor` adds the metrics and the two
log lines an operator needs: a slow query, and a connection held suspiciously long.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from time import perf_counter

import asyncpg

from app.core.errors import AppError
from app.core.logging import get_logger
from app.core.metrics import Metrics, PoolSeries

logger = get_logger("app.db")


class DatabaseHooks:
    async def acquire(self, pool: asyncpg.Pool, *, timeout_seconds: float) -> asyncpg.Connection:
        return await pool.acquire(timeout=timeout_seconds)

    async def release(
        self, pool: asyncpg.Pool, connection: asyncpg.Connection, *, timeout_seconds: float
    ) -> None:
        await pool.release(connection, timeout=timeout_seconds)

    def query_finished(self, operation: str, seconds: float) -> None:
        """A repository call ran for `seconds` (from having its connection to returning)."""

    def query_failed(self, operation: str, error: AppError) -> None:
        """A repository call ended in `error` (already translated to a domain error)."""


@dataclass(slots=True)
class _Hold:
    series: PoolSeries
    since: float
    watch: asyncio.TimerHandle | None


class DatabaseMonitor(DatabaseHooks):
    def __init__(
        self,
        metrics: Metrics,
        pools: Callable[[], Mapping[str, asyncpg.Pool]],
        *,
        slow_query_ms: int,
        hold_warn_seconds: float,
    ) -> None:
        self._metrics = metrics
        self._pools = pools  # Database.pools: names pools for the labels
        self._slow_seconds = slow_query_ms / 1000 if slow_query_ms > 0 else None
        self._hold_warn_seconds = hold_warn_seconds if hold_warn_seconds > 0 else None
        # Pools are few and live as long as the app; a closed one's entry is never used again.
        self._known: dict[asyncpg.Pool, tuple[str, PoolSeries]] = {}
        self._holds: dict[int, _Hold] = {}  # id(connection) -> its hold, while held

    def _series_of(self, pool: asyncpg.Pool) -> tuple[str, PoolSeries]:
        """The pool's name and series, looked up once per pool: naming it walks every pool
        (`Database.pools` builds a dict), on every acquire that was a visible cost."""
        known = self._known.get(pool)
        if known is None:
            name = next((name for name, p in self._pools().items() if p is pool), "unknown")
            known = (name, self._metrics.pool(name))
            if name != "unknown":  # a pool not open (yet) is looked up again next time
                self._known[pool] = known
        return known

    async def acquire(self, pool: asyncpg.Pool, *, timeout_seconds: float) -> asyncpg.Connection:
        name, series = self._series_of(pool)
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
        self, pool: asyncpg.Pool, connection: asyncpg.Connection, *, timeout_seconds: float
    ) -> None:
        hold = self._holds.pop(id(connection), None)
        try:
            await pool.release(connection, timeout=timeout_seconds)
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
        series = self._metrics.operation(operation)
        series.seconds.observe(seconds)
        if self._slow_seconds is not None and seconds >= self._slow_seconds:
            series.slow.inc()
            logger.warning("slow query", operation=operation, duration_ms=round(seconds * 1000, 1))

    def query_failed(self, operation: str, error: AppError) -> None:
        self._metrics.query_errors.labels(operation, type(error).__name__).inc()
