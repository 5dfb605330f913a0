"""The background check that decides which replicas take reads: reachable, still a standby,
and no further behind the primary than DB_REPLICA_MAX_LAG_SECONDS.

Lag is measured against the primary's WAL, not the standby's clock: each round notes where
the primary's flushed WAL ends and when. A replica lacks only WAL written after the last
time the primary was seen ending at or before the replica's replay position, so its lag is
at most `now` minus that time, and this upper bound is what counts. It reads 0 when the
replica has everything (an idle primary raises no false alarm after a quiet hour), grows
when the standby loses its primary or its replay is paused (`now() -
pg_last_xact_replay_timestamp()` would say "up to date" in the first case and, right after
a pause, "a few ms" in the second), and over-reads by at most one check interval. So a
change on the primary stops being hidden by a stalled replica within
DB_REPLICA_MAX_LAG_SECONDS plus one DB_REPLICA_CHECK_INTERVAL_SECONDS (docs/security.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from dataclasses import dataclass
from typing import TypedDict

import asyncpg

from app.core.metrics import ReplicaMetrics
from app.core.settings import Settings
from app.db import pooler
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


class _CacheOption(TypedDict, total=False):
    """asyncpg.connect's statement cache size when not its default: a TypedDict, so the
    `**` is checked against connect's signature."""

    statement_cache_size: int


@dataclass(slots=True)
class _Seen:
    """A position of the primary's WAL end, and the first and last time a check saw it."""

    first: float
    last: float
    lsn: int


class WalTimeline:
    """Where the primary's WAL ended when, to turn a replay position into seconds of lag."""

    def __init__(self, retention_seconds: float) -> None:
        self._retention = retention_seconds
        self._samples: deque[_Seen] = deque()  # oldest first, one per position

    def record(self, at: float, lsn: int) -> None:
        if self._samples and lsn <= self._samples[-1].lsn:
            self._samples[-1].last = at  # still there: no later WAL existed until now
        else:
            self._samples.append(_Seen(first=at, last=at, lsn=lsn))
        while len(self._samples) > 1 and self._samples[0].last < at - self._retention:
            self._samples.popleft()

    def lag(self, replayed: int, now: float) -> float:
        """At most how many seconds the replica is behind: since the primary was last seen
        with no WAL the replica lacks; 0 when it has all the primary had at the last look.
        When it lacks even the oldest position kept, the best known is since that position
        was first seen."""
        previous: _Seen | None = None
        for seen in self._samples:
            if seen.lsn > replayed:
                since = seen.first if previous is None else previous.last
                return max(0.0, now - since)
            previous = seen
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
        behind_pgbouncer: bool = False,
    ) -> None:
        self._primary = primary
        self._behind_pgbouncer = behind_pgbouncer
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
            behind_pgbouncer=pooler.behind_pgbouncer(settings),
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
            replica.replayed = None
            self._set(replica, healthy=False, lag=math.nan, reason=f"unreachable ({exc!r})")
            return
        if not in_recovery:  # promoted, or not a standby at all: not a copy of our primary
            replica.replayed = None
            self._set(replica, healthy=False, lag=math.nan, reason="not in recovery")
            return
        replica.replayed = replayed  # what the read router compares sessions' positions with
        lag = self._timeline.lag(replayed or 0, time.monotonic())
        within = lag <= self._max_lag
        self._set(replica, healthy=within, lag=lag, reason=None if within else f"lag {lag:.1f}s")

    async def _probe(self, replica: Replica) -> tuple[bool, int | None]:
        connection = self._connections.get(replica.name)
        if connection is None or connection.is_closed():
            # Behind PgBouncer a prepared statement may be gone at the next transaction.
            cache: _CacheOption = {"statement_cache_size": 0} if self._behind_pgbouncer else {}
            connection = await asyncpg.connect(
                replica.url,
                timeout=self._timeout,
                server_settings={"application_name": f"auth-service/{replica.name}/health"},
                **cache,
            )
            self._connections[replica.name] = connection
        row = await connection.fetchrow(REPLICA_STATE, timeout=self._timeout)
        assert row is not None  # a SELECT without FROM: always one row
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
            self._metrics.record(
                replica.name, lag_seconds=replica.lag_seconds, healthy=replica.healthy
            )
