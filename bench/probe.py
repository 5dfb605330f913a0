"""The project's app with counters around its pool, for the connection-usage numbers.

`create_app()` builds the real app (`app.main.create_app`) and wraps it: once the lifespan
has opened the pool, every unit of work gets the pool through `PoolProbe`, which times each
acquire and counts connections held. Requests tagged `X-Bench-Kind: db-free` by the load
script are expected never to acquire; the probe counts the ones that do. At shutdown each
worker writes its counters to BENCH_PROBE_DIR/<pid>.json. The app's code is unchanged.
"""

from __future__ import annotations

import json
import os
import time
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from app.db.database import Database
from app.db.uow import UnitOfWork
from app.main import create_app as create_project_app

_request_kind: ContextVar[str] = ContextVar("bench_request_kind", default="untagged")


@dataclass
class PoolStats:
    pid: int = field(default_factory=os.getpid)
    pool_max: int = 0
    held: int = 0
    peak_held: int = 0
    acquires: int = 0
    acquires_by_kind: dict[str, int] = field(default_factory=dict)
    requests_by_kind: dict[str, int] = field(default_factory=dict)
    acquire_wait_ms: list[float] = field(default_factory=list)


class PoolProbe:
    """Stands in for the asyncpg pool where the unit of work uses it (acquire/release)."""

    def __init__(self, pool: asyncpg.Pool, stats: PoolStats) -> None:
        self._pool = pool
        self._stats = stats

    # `timeout` parameters: the same signatures as asyncpg.Pool's, which this stands in for.
    async def acquire(self, *, timeout: float | None = None) -> PoolConnectionProxy:  # noqa: ASYNC109
        started = time.perf_counter()
        connection = await self._pool.acquire(timeout=timeout)
        stats = self._stats
        stats.acquire_wait_ms.append((time.perf_counter() - started) * 1000)
        stats.acquires += 1
        kind = _request_kind.get()
        stats.acquires_by_kind[kind] = stats.acquires_by_kind.get(kind, 0) + 1
        stats.held += 1
        stats.peak_held = max(stats.peak_held, stats.held)
        return connection

    async def release(
        self,
        connection: PoolConnectionProxy,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> None:
        # Counted as given back when the request lets go of it: asyncpg releases in a
        # shielded task, and the next waiter can get the connection before this resumes.
        self._stats.held -= 1
        await self._pool.release(connection, timeout=timeout)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


class DatabaseProbe:
    """The app's Database, handing units of work the probed pool."""

    def __init__(self, database: Database, stats: PoolStats, acquire_timeout: float) -> None:
        self._database = database
        self._probe = PoolProbe(database.pool, stats)
        self._acquire_timeout = acquire_timeout

    def unit_of_work(self) -> UnitOfWork:
        # The probe is no asyncpg.Pool: it stands in for one by its acquire and release,
        # and its __getattr__ hands the rest to the pool.
        probe = cast(asyncpg.Pool, self._probe)
        return UnitOfWork(probe, acquire_timeout=self._acquire_timeout)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._database, name)


class Probed:
    def __init__(self, app: FastAPI, out_dir: Path) -> None:
        self.app = app
        self.out_dir = out_dir
        self.stats = PoolStats(pool_max=app.state.settings.db_pool_max_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._receive_lifespan(receive), self._send_lifespan(send))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kind = dict(scope["headers"]).get(b"x-bench-kind", b"untagged").decode("latin-1")
        by_kind = self.stats.requests_by_kind
        by_kind[kind] = by_kind.get(kind, 0) + 1
        token = _request_kind.set(kind)
        try:
            await self.app(scope, receive, send)
        finally:
            _request_kind.reset(token)

    def _send_lifespan(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                state = self.app.state
                state.database = DatabaseProbe(
                    state.database, self.stats, state.settings.db_acquire_timeout_seconds
                )
            await send(message)

        return wrapped

    def _receive_lifespan(self, receive: Receive) -> Receive:
        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                self.out_dir.mkdir(parents=True, exist_ok=True)
                path = self.out_dir / f"{self.stats.pid}.json"
                path.write_text(json.dumps(asdict(self.stats)))
            return message

        return wrapped


def create_app() -> Probed:
    return Probed(create_project_app(), Path(os.environ["BENCH_PROBE_DIR"]))
