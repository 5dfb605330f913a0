"""Driver errors become domain errors here, in one place both the repositories and the unit
of work use (not a try/except per method, and no layer importing the other for it)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from app.core.errors import ConflictError, DatabaseError, DatabaseUnavailableError

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
