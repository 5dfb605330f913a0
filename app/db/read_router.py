"""Which server answers a request's replica-safe reads, and the retry on the primary.

`ReadRouter` (one per process) picks a replica; `ReplicaReads` (one per request, held by the
unit of work) keeps the request's replica connection, pins the request to the primary, and
retries on the primary a read that a replica failed or found nothing for, so a valid token is
never refused on a replica's word alone.

Read-your-writes across requests:
A session's reads go to a replica only once that replica has replayed the session's last
known write, the primary's WAL position the access token carries (set at login and
refresh); otherwise they go to the primary. GitLab's database load balancing does the same
with the primary's write location; a time window ("primary for N seconds after a write")
would be wrong whenever a replica lags more than N, and wasteful whenever it lags less.

Each replica's replay position is the one the health checker noted at its last check, not
asked per request: choosing costs no round trip, and a session's reads stay on the primary
for about one DB_REPLICA_CHECK_INTERVAL_SECONDS after its write, never longer than the
replica really takes to replay it plus one interval.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TypeVar

import anyio
from asyncpg.pool import PoolConnectionProxy
from prometheus_client import CollectorRegistry, Counter

from app.core.database_errors import database_errors
from app.core.errors import DatabaseError, DatabaseUnavailableError
from app.db.monitor import PoolAccess
from app.db.replicas import Replica, ReplicaSet
from app.repositories.base import Acquire

T = TypeVar("T")


class ReadRoute(StrEnum):
    REPLICA = "replica"
    # Some replica takes reads, but none has replayed the session's last write yet.
    FALLBACK_POSITION = "fallback_position"
    # No replica takes reads: lag over DB_REPLICA_MAX_LAG_SECONDS, unreachable, or promoted.
    FALLBACK_LAG = "fallback_lag"


class ReadRouteMetrics:
    """How many requests' replica-safe reads went where."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.reads = Counter(
            "db_replica_reads",
            "Requests whose replica-safe reads went to a replica, or fell back to the primary "
            "(fallback_position: no replica had replayed the session's last write; "
            "fallback_lag: no replica took reads).",
            ["route"],
            registry=registry,
        )
        self._by_route = {route: self.reads.labels(route.value) for route in ReadRoute}

    def count(self, route: ReadRoute) -> None:
        self._by_route[route].inc()


class ReadRouter:
    def __init__(self, replicas: ReplicaSet, *, metrics: ReadRouteMetrics | None = None) -> None:
        self.replicas = replicas
        self._metrics = metrics

    def __bool__(self) -> bool:
        return bool(self.replicas)

    def replica_for(self, position: int | None) -> Replica | None:
        """The next healthy replica that has replayed `position` (any healthy one when the
        session knows no position), or None: the read goes to the primary."""

        def caught_up(replica: Replica) -> bool:
            if not replica.healthy:
                return False
            if position is None:
                return True
            return replica.replayed is not None and replica.replayed >= position

        chosen = self.replicas.next_where(caught_up)
        if chosen is not None:
            route = ReadRoute.REPLICA
        elif any(replica.healthy for replica in self.replicas.replicas):
            route = ReadRoute.FALLBACK_POSITION
        else:
            route = ReadRoute.FALLBACK_LAG
        if self._metrics is not None:
            self._metrics.count(route)
        return chosen


class ReplicaReads:
    """One request's replica-safe reads.

    They go to one replica (acquired on first use, held until the request ends) until the
    request is pinned to the primary, for good: by any use of the primary (a write, a
    transaction, a read that must be fresh may have changed or seen data a replica has not
    replayed yet), or by a replica that failed a read or found nothing. So a request sees
    its own writes and never reads older data after newer.
    """

    def __init__(self, router: ReadRouter, access: PoolAccess, *, acquire_timeout: float) -> None:
        self._router = router
        self._access = access
        self._acquire_timeout = acquire_timeout
        self._replica: tuple[Replica, PoolConnectionProxy] | None = None
        self._position: int | None = None
        self.pinned = False  # to the primary, for the rest of the request

    def reads_after(self, position: int | None) -> None:
        """Serve only from a replica that has replayed WAL `position` (the session's last
        write); None: any healthy replica will do."""
        self._position = position

    async def connection(self) -> PoolConnectionProxy | None:
        """This request's replica connection, acquired on first use; None when the request is
        pinned, no replica is healthy or the chosen one cannot be reached: read on the primary.
        """
        if self.pinned:
            return None
        if self._replica is not None:
            return self._replica[1]
        replica = self._router.replica_for(self._position)
        if replica is None:
            return None
        try:
            with database_errors(f"{replica.name}.acquire"):
                connection = await self._access.acquire(
                    replica.pool, name=replica.name, timeout_seconds=self._acquire_timeout
                )
        except DatabaseError:
            replica.mark_down()
            return None
        self._replica = (replica, connection)
        return connection

    async def read(self, attempt: Callable[[Acquire], Awaitable[T]], *, primary: Acquire) -> T:
        """Run `attempt` on the replica; if the replica fails it (connection lost, shut down,
        query cancelled by recovery) or finds nothing (None: it may not have replayed the row
        yet), pin the request and run it once more on the primary."""
        connection = await self.connection()
        if connection is None or self._replica is None:
            return await attempt(primary)
        replica = self._replica[0]

        async def on_replica() -> PoolConnectionProxy:
            return connection

        try:
            result = await attempt(on_replica)
        except DatabaseError as error:
            if isinstance(error, DatabaseUnavailableError):
                replica.mark_down()  # no more reads until the health check finds it up
        else:
            if result is not None:
                return result
        self.pinned = True
        return await attempt(primary)

    async def release(self) -> None:
        replica, self._replica = self._replica, None
        if replica is None:
            return
        with anyio.CancelScope(shield=True):
            try:
                with database_errors(f"{replica[0].name}.release"):
                    await self._access.release(
                        replica[0].pool, replica[1], timeout_seconds=self._acquire_timeout
                    )
            except DatabaseError:
                pass  # asyncpg has terminated it; the request's reads already got their answer
