"""Which replica a session's read may go to, and what the router counts (no server: the
replicas' health and replay positions are what the health checker would have noted)."""

from __future__ import annotations

from typing import cast

import asyncpg
from prometheus_client import CollectorRegistry

from app.db.read_router import ReadRouteMetrics, ReadRouter
from app.db.replicas import Replica, ReplicaSet


def replica(name: str, *, healthy: bool = True, replayed: int | None = 100) -> Replica:
    # The router never touches the pool; a real one is not needed to choose.
    return Replica(
        name=name, url="", pool=cast(asyncpg.Pool, None), healthy=healthy, replayed=replayed
    )


def counts(registry: CollectorRegistry) -> dict[str, float]:
    routes = ("replica", "fallback_position", "fallback_lag")
    return {
        route: registry.get_sample_value("db_replica_reads_total", {"route": route}) or 0.0
        for route in routes
    }


def test_only_a_replica_that_has_replayed_the_position_serves() -> None:
    behind, ahead = replica("replica-0", replayed=100), replica("replica-1", replayed=200)
    router = ReadRouter(ReplicaSet([behind, ahead]))
    assert [router.replica_for(150) for _ in range(3)] == [ahead] * 3
    assert router.replica_for(200) is ahead
    assert router.replica_for(201) is None


def test_without_a_position_any_healthy_replica_serves_in_turn() -> None:
    first, second = replica("replica-0", replayed=None), replica("replica-1")
    router = ReadRouter(ReplicaSet([first, second]))
    assert [router.replica_for(None) for _ in range(4)] == [first, second] * 2


def test_an_unhealthy_replica_never_serves_whatever_it_replayed() -> None:
    router = ReadRouter(ReplicaSet([replica("replica-0", healthy=False, replayed=10**9)]))
    assert router.replica_for(1) is None
    assert router.replica_for(None) is None


def test_each_choice_is_counted_by_why() -> None:
    registry = CollectorRegistry()
    caught_up = replica("replica-0", replayed=100)
    router = ReadRouter(ReplicaSet([caught_up]), metrics=ReadRouteMetrics(registry))
    assert counts(registry) == {"replica": 0, "fallback_position": 0, "fallback_lag": 0}
    router.replica_for(100)
    router.replica_for(101)
    caught_up.healthy = False
    router.replica_for(1)
    assert counts(registry) == {"replica": 1, "fallback_position": 1, "fallback_lag": 1}
