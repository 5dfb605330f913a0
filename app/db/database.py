"""Connection pools for the process: opened and closed by the app's lifespan.

One pool for the primary, and one per DATABASE_REPLICA_URLS entry ("replica-0", ...), each
opened as DATABASE_POOLER says (app/db/pooler.py).
"""

from __future__ import annotations

import asyncpg

from app.core.metrics import Metrics
from app.core.settings import Settings
from app.db import pooler
from app.db.monitor import DatabaseMonitor, PoolAccess
from app.db.pool_release import keep_session
from app.db.read_router import ReadRouteMetrics, ReadRouter
from app.db.replicas import Replica, ReplicaSet
from app.db.uow import UnitOfWork

_PLAIN_ACCESS = PoolAccess()


class Database:
    def __init__(
        self,
        settings: Settings,
        *,
        metrics: Metrics | None = None,
        read_metrics: ReadRouteMetrics | None = None,
    ) -> None:
        if settings.database_url is None or not settings.database_url.get_secret_value():
            raise RuntimeError("DATABASE_URL is not set")
        self._url = settings.database_url.get_secret_value()
        self._settings = settings
        self._pool: asyncpg.Pool | None = None
        self.replicas = ReplicaSet([])
        self._read_metrics = read_metrics
        self._router = ReadRouter(self.replicas)
        self._transaction_setup = pooler.transaction_setup(settings)
        self._monitor: DatabaseMonitor | None = None
        if metrics is not None:
            self._monitor = DatabaseMonitor(
                metrics,
                slow_query_ms=settings.db_slow_query_ms,
                hold_warn_seconds=settings.db_connection_hold_warn_seconds,
            )

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("database pool is not open")
        return self._pool

    def pools(self) -> dict[str, asyncpg.Pool]:
        """Every open pool by name ("primary", "replica-0", ...), for metrics and health."""
        if self._pool is None:
            return {}
        return {"primary": self._pool} | {r.name: r.pool for r in self.replicas.replicas}

    async def open(self) -> None:
        s = self._settings
        self._pool = await self._create_pool(self._url, "primary", min_size=s.db_pool_min_size)
        if pooler.behind_pgbouncer(s):
            await pooler.warn_without_role_timeout(
                self._pool, timeout_seconds=s.db_acquire_timeout_seconds
            )
        replicas = []
        for index, url in enumerate(s.replica_urls):
            name = f"replica-{index}"
            # min_size=0: no connection at start-up, so a replica that is down does not stop
            # the service; it takes reads once the health check finds it up.
            pool = await self._create_pool(url, name, min_size=0)
            replicas.append(Replica(name=name, url=url, pool=pool))
        self.replicas = ReplicaSet(replicas)
        self._router = ReadRouter(self.replicas, metrics=self._read_metrics)

    async def _create_pool(self, url: str, name: str, *, min_size: int) -> asyncpg.Pool:
        s = self._settings
        return await asyncpg.create_pool(
            url,
            min_size=min(min_size, s.db_pool_max_size),
            max_size=s.db_pool_max_size,
            timeout=s.db_acquire_timeout_seconds,  # connect timeout for new connections
            reset=keep_session,
            # The pool's name shows in pg_stat_activity on the server it runs on.
            **pooler.connect_options(
                s, application_name="auth-service" if name == "primary" else f"auth-service/{name}"
            ),
        )

    async def close(self) -> None:
        pools = list(self.pools().values())
        self._pool, self.replicas = None, ReplicaSet([])
        self._router = ReadRouter(self.replicas)
        for pool in pools:
            await pool.close()

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(
            self.pool,
            acquire_timeout=self._settings.db_acquire_timeout_seconds,
            router=self._router or None,
            access=self._monitor or _PLAIN_ACCESS,
            observer=self._monitor,
            transaction_setup=self._transaction_setup,
        )
