"""Which server answers a session's replica-safe reads: read-your-writes across requests.

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

from enum import StrEnum

from prometheus_client import CollectorRegistry, Counter

from app.db.replicas import Replica, ReplicaSet


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
