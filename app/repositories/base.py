"""What every repository shares: where its connection comes from, and the one place each
call is timed and its driver errors translated (app/core/database_errors.py).

A repository only gets connections. Which server serves a read, and the retry on the
primary when a replica fails one, belong to the read router (app/db/read_router.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from time import perf_counter
from typing import Protocol, TypeAlias, TypeVar

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from app.core.database_errors import database_errors
from app.core.errors import AppError

T = TypeVar("T")

# What a query runs on: a pool's connection (asyncpg hands out a proxy, a type of its own in
# the stubs) or one opened directly and borrowed (UnitOfWork.borrowing: the tests, the bench).
Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy

# Gets the connection one attempt at a repository call runs on.
Acquire = Callable[[], Awaitable[Connection]]


class ConnectionSource(Protocol):
    """Where a repository's connections come from: the request's unit of work."""

    async def connection(self) -> Connection:
        """The request's connection to the primary."""
        ...

    async def replica_first(self, attempt: Callable[[Acquire], Awaitable[T]]) -> T:
        """Run a read that a replica may serve: `attempt` is given where to get its
        connection, and may be run a second time, on the primary."""
        ...


class QueryObserver(Protocol):
    """Told how each repository call went (app.db.monitor: metrics, slow-query log)."""

    def query_finished(self, operation: str, seconds: float) -> None: ...
    def query_failed(self, operation: str, error: AppError) -> None: ...


class Unobserved:
    """A QueryObserver that reports nothing (the CLI, units of work built by hand)."""

    def query_finished(self, operation: str, seconds: float) -> None:
        pass

    def query_failed(self, operation: str, error: AppError) -> None:
        pass


class Repository:
    def __init__(self, source: ConnectionSource, observer: QueryObserver) -> None:
        self._source = source
        self._observer = observer

    def _connection(
        self, operation: str, *, conflict: str = "Already exists"
    ) -> AbstractAsyncContextManager[Connection]:
        """The primary's connection for one repository call named `operation`
        ("users.get_by_id")."""
        return self._observed(operation, self._source.connection, conflict=conflict)

    @asynccontextmanager
    async def _observed(
        self, operation: str, acquire: Acquire, *, conflict: str = "Already exists"
    ) -> AsyncIterator[Connection]:
        """The one place every query passes: errors are translated here, and the call is timed
        here (from having the connection, so pool waits count as acquire time, not query time).
        """
        try:
            with database_errors(operation, conflict=conflict):
                connection = await acquire()
                started = perf_counter()
                try:
                    yield connection
                finally:
                    self._observer.query_finished(operation, perf_counter() - started)
        except AppError as error:
            self._observer.query_failed(operation, error)
            raise

    async def _read(
        self,
        operation: str,
        query: Callable[[Connection], Awaitable[T]],
        *,
        replica_ok: bool = False,
    ) -> T:
        """Run a read; with `replica_ok` a replica may serve it, and the source retries it on
        the primary when the replica fails it or finds nothing (None). `query` must only
        read: it may run twice."""

        async def attempt(acquire: Acquire) -> T:
            async with self._observed(operation, acquire) as connection:
                return await query(connection)

        if replica_ok:
            return await self._source.replica_first(attempt)
        return await attempt(self._source.connection)
