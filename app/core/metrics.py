"""Every Prometheus metric the service exports, and how /metrics renders them.

One `Metrics` per app (built by create_app), each on a registry of its own, so tests can
build apps side by side without "duplicated timeseries" errors.

Several workers (`serve --workers N`): each uvicorn worker is a separate process with its
own counters, and a scrape reaches whichever worker accepts it. prometheus-client's
multiprocess mode fixes that: with PROMETHEUS_MULTIPROC_DIR set before the first metric is
made, every process writes its values to memory-mapped files in that directory, and a
scrape sums the files of all workers (gauges as `livesum`: only live workers count). The
CLI sets the directory up for `--workers > 1`; tests/cli/test_serve_workers.py proves the
sum with two real worker processes. We chose it over alternatives (a push gateway, a
sidecar per worker, one port per worker) because the scrape target stays one URL and the
numbers stay exact without another moving part.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.process_collector import ProcessCollector

from app.core.errors import (
    AuthenticationError,
    AuthorizationError,
    RateLimitError,
    ServiceUnavailableError,
)
from app.core.models import LoginOutcome

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Login outcomes, all exported from start-up (at 0) so rate() and alerts work from the
# first scrape. "locked" is what a RateLimitError (lockout, per-address limit) means.
LOGIN_OUTCOMES = tuple(LoginOutcome)
_OUTCOME_OF: tuple[tuple[type[Exception], LoginOutcome], ...] = (
    (RateLimitError, LoginOutcome.LOCKED),
    (ServiceUnavailableError, LoginOutcome.UNAVAILABLE),
    (AuthorizationError, LoginOutcome.INACTIVE),
    (AuthenticationError, LoginOutcome.BAD_CREDENTIALS),
)

_QUERY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
_WAIT_BUCKETS = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_HOLD_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class PoolStats(Protocol):
    """What a pool tells about itself (asyncpg.Pool has these)."""

    def get_size(self) -> int: ...
    def get_idle_size(self) -> int: ...
    def get_max_size(self) -> int: ...


@dataclass(frozen=True, slots=True)
class PoolSeries:
    """One pool's labelled series."""

    size: Gauge
    idle: Gauge
    in_use: Gauge
    max: Gauge
    waiting: Gauge
    acquire_seconds: Histogram
    acquire_timeouts: Counter
    hold_seconds: Histogram
    hold_warnings: Counter

    def sample(self, pool: PoolStats) -> None:
        size, idle = pool.get_size(), pool.get_idle_size()
        self.size.set(size)
        self.idle.set(idle)
        self.in_use.set(size - idle)
        self.max.set(pool.get_max_size())


@dataclass(frozen=True, slots=True)
class RequestSeries:
    """The series one finished request of a method, route and status counts into."""

    requests: Counter
    seconds: Histogram


@dataclass(frozen=True, slots=True)
class OperationSeries:
    """One repository method's labelled series."""

    seconds: Histogram
    slow: Counter


class Metrics:
    def __init__(self) -> None:
        self.multiprocess_dir = os.environ.get(MULTIPROC_ENV) or None
        registry = self.registry = CollectorRegistry()
        if self.multiprocess_dir is None:
            # Per-process CPU/memory; meaningless summed over workers, so single-process only.
            ProcessCollector(registry=registry)

        def pool_gauge(name: str, doc: str) -> Gauge:
            return Gauge(name, doc, ["pool"], registry=registry, multiprocess_mode="livesum")

        def counter(name: str, doc: str, *labels: str) -> Counter:
            return Counter(name, doc, labels, registry=registry)

        def histogram(name: str, doc: str, buckets: tuple[float, ...], *labels: str) -> Histogram:
            return Histogram(name, doc, labels, buckets=buckets, registry=registry)

        self.pool_size = pool_gauge("db_pool_size", "Open connections in the pool.")
        self.pool_idle = pool_gauge("db_pool_idle", "Open connections nobody holds.")
        self.pool_in_use = pool_gauge("db_pool_in_use", "Connections held by requests.")
        self.pool_max = pool_gauge("db_pool_max", "Most connections the pool may open.")
        self.pool_waiting = pool_gauge("db_pool_waiting", "Requests waiting to acquire.")
        self.pool_acquire_seconds = histogram(
            "db_pool_acquire_seconds",
            "Time a request waited for a pooled connection.",
            _WAIT_BUCKETS,
            "pool",
        )
        self.pool_acquire_timeouts = counter(
            "db_pool_acquire_timeouts",
            "Acquires that gave up after DB_ACQUIRE_TIMEOUT_SECONDS (the request got a 503).",
            "pool",
        )
        self.connection_hold_seconds = histogram(
            "db_connection_hold_seconds",
            "Time a request held its connection, acquire to release.",
            _HOLD_BUCKETS,
            "pool",
        )
        self.connection_hold_warnings = counter(
            "db_connection_hold_warnings",
            "Connections held longer than DB_CONNECTION_HOLD_WARN_SECONDS (possible leak).",
            "pool",
        )
        self.query_seconds = histogram(
            "db_query_duration_seconds",
            "Repository call duration, by repository method (never by SQL text).",
            _QUERY_BUCKETS,
            "operation",
        )
        self.query_errors = counter(
            "db_query_errors",
            "Repository calls that failed, by domain error type.",
            "operation",
            "error",
        )
        self.slow_queries = counter(
            "db_slow_queries", "Repository calls slower than DB_SLOW_QUERY_MS.", "operation"
        )
        self.http_requests = counter(
            "http_requests",
            "Requests by route template (not raw path), method and status.",
            "method",
            "route",
            "status",
        )
        self.http_request_seconds = histogram(
            "http_request_duration_seconds",
            "Time to serve a request, by route template and method.",
            _HTTP_BUCKETS,
            "method",
            "route",
        )
        self.http_errors = counter(
            "http_error_responses", "Error responses by the envelope's `type`.", "type"
        )
        self.logins = counter("auth_logins", "Login attempts by outcome.", "outcome")
        for outcome in LOGIN_OUTCOMES:
            self.logins.labels(outcome)
        self._pools: dict[str, PoolSeries] = {}
        self._operations: dict[str, OperationSeries] = {}
        # Bounded: methods are a fixed set (monitoring.METHODS), routes are templates.
        self._requests: dict[tuple[str, str, int], RequestSeries] = {}

    def pool(self, name: str) -> PoolSeries:
        """The series of pool `name`, made (all at 0) on first use and kept: `.labels()`
        takes a lock and builds a key on every call, too slow for every acquire."""
        series = self._pools.get(name)
        if series is None:
            series = self._pools[name] = PoolSeries(
                size=self.pool_size.labels(name),
                idle=self.pool_idle.labels(name),
                in_use=self.pool_in_use.labels(name),
                max=self.pool_max.labels(name),
                waiting=self.pool_waiting.labels(name),
                acquire_seconds=self.pool_acquire_seconds.labels(name),
                acquire_timeouts=self.pool_acquire_timeouts.labels(name),
                hold_seconds=self.connection_hold_seconds.labels(name),
                hold_warnings=self.connection_hold_warnings.labels(name),
            )
        return series

    def operation(self, name: str) -> OperationSeries:
        """The series of repository method `name` ("users.get_by_id"), kept like pool()'s."""
        series = self._operations.get(name)
        if series is None:
            series = self._operations[name] = OperationSeries(
                seconds=self.query_seconds.labels(name), slow=self.slow_queries.labels(name)
            )
        return series

    def request(self, method: str, route: str, status: int) -> RequestSeries:
        """The series of finished requests by `method`, `route` template and `status`, kept
        like pool()'s: two `.labels()` calls per request were a visible share of its CPU."""
        key = (method, route, status)
        series = self._requests.get(key)
        if series is None:
            series = self._requests[key] = RequestSeries(
                requests=self.http_requests.labels(method, route, str(status)),
                seconds=self.http_request_seconds.labels(method, route),
            )
        return series

    def sample_pools(self, pools: Mapping[str, PoolStats]) -> None:
        """Write the gauges of each pool from the pool itself."""
        for name, pool in pools.items():
            self.pool(name).sample(pool)

    @contextmanager
    def login_outcome(self) -> Iterator[None]:
        """Count the login attempt inside by how it ends: no error is a success."""
        try:
            yield
        except Exception as exc:
            for error_class, outcome in _OUTCOME_OF:
                if isinstance(exc, error_class):
                    self.logins.labels(outcome).inc()
                    break
            raise
        self.logins.labels(LoginOutcome.SUCCESS).inc()

    def render(self) -> tuple[bytes, str]:
        """The text exposition format: this process's registry, or all workers' files."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST

    def process_exiting(self) -> None:
        """Drop this worker's live gauges from the shared directory (multiprocess mode)."""
        if self.multiprocess_dir is not None:
            multiprocess.mark_process_dead(os.getpid(), self.multiprocess_dir)  # type: ignore[no-untyped-call]


class ReplicaMetrics:
    """Replica lag and health as Prometheus gauges, labelled like the pool metrics (written
    by the replica health checker, app/db/replica_health.py)."""

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

    def record(self, pool: str, *, lag_seconds: float, healthy: bool) -> None:
        self.lag.labels(pool=pool).set(lag_seconds)
        self.healthy.labels(pool=pool).set(1 if healthy else 0)
