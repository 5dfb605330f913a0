"""What every repository shares: where its connection comes from, how driver errors become
domain errors (in this one place, not in a try/except per method), and how a read that a
replica failed is retried once on the primary."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from time import perf_counter
from typing import Protocol, TypeVar

import asyncpg

from app.core.errors import AppError, ConflictError, DatabaseError, DatabaseUnavailableError

# Errors that mean "the database is not there for us right now", not "the query is wrong".
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable host
    asyncio.TimeoutError,  # pool acquire timeout, connect timeout
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.CannotConnectNowError,  # starting up / shutting down
    asyncpg.TooManyConnectionsError,
    asyncpg.QueryCanceledError,  # statement_timeout
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.ConnectionDoesNotExistError,  # connection lost mid-query
)


class Connector(Protocol):
    """The unit of work, as repositories see it."""

    async def connection(self, *, replica_ok: bool = False) -> asyncpg.Connection: ...

    def replica_failed(self, connection: asyncpg.Connection, error: DatabaseError) -> bool: ...

    def replica_missed(self, connection: asyncpg.Connection) -> bool: ...


T = TypeVar("T")


class QueryObserver(Protocol):
    """Told how each repository call went (app.db.monitor: metrics, slow-query log)."""

    def query_finished(self, operation: str, seconds: float) -> None: ...
    def query_failed(self, operation: str, error: AppError) -> None: ...


@contextmanager
def database_errors(operation: str, *, conflict: str = "Already exists") -> Iterator[None]:
    """Translate driver errors raised inside into ConflictError or DatabaseError.

    Messages name the operation only: SQL parameters never reach an error message.
    """
    try:
        yield
    except asyncpg.UniqueViolationError as exc:
        raise ConflictError(conflict) from exc
    except _UNAVAILABLE as exc:
        raise DatabaseUnavailableError(f"{operation}: database unavailable") from exc
    # Otherwise a bug, not an outage. InternalClientError subclasses neither of the others
    # but is also what asyncpg raises when the server ends the session as a statement starts
    # (pg_terminate_backend, a standby's recovery conflict): translated, a replica read that
    # hits it gets its retry on the primary.
    except (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError) as exc:
        raise DatabaseError(f"{operation} failed") from exc


class Repository:
    def __init__(self, connector: Connector, observer: QueryObserver) -> None:
        self._connector = connector
        self._observer = observer

    @asynccontextmanager
    async def _connection(
        self, operation: str, *, replica_ok: bool = False, conflict: str = "Already exists"
    ) -> AsyncIterator[asyncpg.Connection]:
        """The connection for one repository call named `operation` ("users.get_by_id").

        The one place every query passes: errors are translated here, and the call is timed
        here (from having the connection, so pool waits count as acquire time, not query time).
        """
        try:
            with database_errors(operation, conflict=conflict):
                connection = await self._connector.connection(replica_ok=replica_ok)
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
        query: Callable[[asyncpg.Connection], Awaitable[T]],
        *,
        replica_ok: bool = False,
    ) -> T:
        """Run a read; with `replica_ok` it may be served by a replica. A replica that fails
        it (connection lost, shut down, query cancelled by recovery), or finds nothing (None:
        it may not have replayed the row yet), gets it retried once on the primary, so a
        valid token is never refused on a replica's word alone. `query` must only read: it
        may run twice."""
        used: asyncpg.Connection | None = None
        try:
            async with self._connection(operation, replica_ok=replica_ok) as conn:
                used = conn
                result = await query(conn)
        except DatabaseError as exc:
            if used is None or not self._connector.replica_failed(used, exc):
                raise
        else:
            if result is not None or not self._connector.replica_missed(used):
                return result
        async with self._connection(operation) as conn:
            return await query(conn)
