"""The background check that decides which replicas take reads: reachable, still a standby,
and no further behind the primary than DB_REPLICA_MAX_LAG_SECONDS.

Lag is measured the way PostgreSQL measures `pg_stat_replication.replay_lag`: each round
notes where the primary's flushed WAL ends and when; a replica that has not replayed up to a
position noted at time t is at least `now - t` behind. Unlike `now() -
pg_last_xact_replay_timestamp()` on the standby, this reads 0 on an idle primary (no false
alarm after a quiet hour) and keeps growing when the standby loses its primary (its own
clock would say it is up to date). The resolution is one check interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque

import asyncpg
from prometheus_client import CollectorRegistry, Gauge

from app.core.settings import Settings
from app.db.replicas import Replica, ReplicaSet

logger = logging.getLogger("app.db.replicas")

PRIMARY_WAL_POSITION = "SELECT pg_current_wal_flush_lsn()"  # what a standby can have received
REPLICA_STATE = "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()"

# A check that fails for any of these says "not usable now", never "stop checking".
_PROBE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


class ReplicaMetrics:
    """Replica lag and health as Prometheus gauges, labelled like the pool metrics."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.lag = Gauge(
            "db_replica_lag_seconds",
            "How far the replica's replayed WAL is behind the primary (NaN when unreachable).",
            ["pool"],
            registry=registry,
            multiprocess_mode="livemax",  # several workers: the worst lag any of them sees
        )
        self.healthy = Gauge(
            "db_replica_healthy",
            "1 when the replica takes reads: reachable, in recovery, lag within the limit.",
            ["pool"],
            registry=registry,
            multiprocess_mode="livemin",  # several workers: 1 only while every worker reads it
        )

    def record(self, replica: Replica) -> None:
        self.lag.labels(pool=replica.name).set(replica.lag_seconds)
        self.healthy.labels(pool=replica.name).set(1 if replica.healthy else 0)


class WalTimeline:
    """When the primary's WAL reached which position, to turn a replay position into seconds."""

    def __init__(self, retention_seconds: float) -> None:
        self._retention = retention_seconds
        self._samples: deque[tuple[float, int]] = deque()  # (monotonic time, LSN), oldest first

    def record(self, at: float, lsn: int) -> None:
        # Only the first time a position is seen counts: that is when the WAL existed.
        if not self._samples or lsn > self._samples[-1][1]:
            self._samples.append((at, lsn))
        while len(self._samples) > 1 and self._samples[0][0] < at - self._retention:
            self._samples.popleft()

    def lag(self, replayed: int, now: float) -> float:
        """Seconds since the primary had WAL the replica has not replayed (0 if none)."""
        for at, lsn in self._samples:
            if lsn > replayed:
                return max(0.0, now - at)
        return 0.0


class ReplicaHealthChecker:
    """Checks every replica each interval on a connection of its own (a busy pool must not
    look like a dead replica) and sets it up or down; a task started and stopped by the
    app's lifespan."""

    def __init__(
        self,
        primary: asyncpg.Pool,
        replicas: ReplicaSet,
        *,
        max_lag_seconds: float,
        interval_seconds: float,
        timeout_seconds: float,
        metrics: ReplicaMetrics | None = None,
    ) -> None:
        self._primary = primary
        self._replicas = replicas
        self._max_lag = max_lag_seconds
        self._interval = interval_seconds
        self._timeout = timeout_seconds
        self._metrics = metrics
        self._timeline = WalTimeline(retention_seconds=max(300.0, 2 * max_lag_seconds))
        self._connections: dict[str, asyncpg.Connection] = {}
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def configured(
        cls,
        primary: asyncpg.Pool,
        replicas: ReplicaSet,
        settings: Settings,
        *,
        metrics: ReplicaMetrics | None = None,
    ) -> ReplicaHealthChecker:
        return cls(
            primary,
            replicas,
            max_lag_seconds=settings.db_replica_max_lag_seconds,
            interval_seconds=settings.db_replica_check_interval_seconds,
            timeout_seconds=settings.db_acquire_timeout_seconds,
            metrics=metrics,
        )

    async def start(self) -> None:
        """One check before serving (replicas start down), then one per interval."""
        if not self._replicas:
            return
        await self.check_once()
        self._task = asyncio.create_task(self._run(), name="replica-health")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        connections, self._connections = list(self._connections.values()), {}
        for connection in connections:
            connection.terminate()

    async def check_once(self) -> None:
        await self._sample_primary()
        await asyncio.gather(*(self._check(replica) for replica in self._replicas.replicas))

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.check_once()
            except Exception:  # a bug here must not end the checks for the process's life
                logger.exception("replica health check failed")

    async def _sample_primary(self) -> None:
        try:
            # Pool.fetchval would wait for a free connection forever: a busy primary pool
            # must not stall the checks.
            async with self._primary.acquire(timeout=self._timeout) as connection:
                lsn = await connection.fetchval(PRIMARY_WAL_POSITION, timeout=self._timeout)
        except _PROBE_ERRORS:
            return  # replicas are judged against the positions already known
        self._timeline.record(time.monotonic(), lsn)

    async def _check(self, replica: Replica) -> None:
        try:
            in_recovery, replayed = await self._probe(replica)
        except _PROBE_ERRORS as exc:
            self._forget_connection(replica)
            self._set(replica, healthy=False, lag=math.nan, reason=f"unreachable ({exc!r})")
            return
        if not in_recovery:  # promoted, or not a standby at all: not a copy of our primary
            self._set(replica, healthy=False, lag=math.nan, reason="not in recovery")
            return
        lag = self._timeline.lag(replayed or 0, time.monotonic())
        within = lag <= self._max_lag
        self._set(replica, healthy=within, lag=lag, reason=None if within else f"lag {lag:.1f}s")

    async def _probe(self, replica: Replica) -> tuple[bool, int | None]:
        connection = self._connections.get(replica.name)
        if connection is None or connection.is_closed():
            connection = await asyncpg.connect(
                replica.url,
                timeout=self._timeout,
                server_settings={"application_name": f"auth-service/{replica.name}/health"},
            )
            self._connections[replica.name] = connection
        row = await connection.fetchrow(REPLICA_STATE, timeout=self._timeout)
        return bool(row[0]), row[1]

    def _forget_connection(self, replica: Replica) -> None:
        connection = self._connections.pop(replica.name, None)
        if connection is not None:
            connection.terminate()

    def _set(self, replica: Replica, *, healthy: bool, lag: float, reason: str | None) -> None:
        if healthy != replica.healthy:
            if healthy:
                logger.info("replica %s takes reads again (lag %.1fs)", replica.name, lag)
            else:
                logger.warning("replica %s stops taking reads: %s", replica.name, reason)
        replica.healthy = healthy
        replica.lag_seconds = lag
        if self._metrics is not None:
            self._metrics.record(replica)
