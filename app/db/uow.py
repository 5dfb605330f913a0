"""The unit of work: the only door to the database for one request.

It acquires a pooled connection on first use only, shares it with every repository
(`uow.users`), nests transactions as savepoints, and always gives the connection back.

With replicas configured it also routes reads: a read marked `replica_ok` goes to the next
healthy replica that has replayed the session's last write (`reads_after`, see
app/db/read_router.py), until the request uses the primary for anything; from then on every
read goes to the primary, so a request sees its own writes and never reads older data after
newer. A request holds at most one connection per pool (one replica, the primary).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import asyncpg

from app.core.errors import DatabaseError, DatabaseUnavailableError
from app.core.logging import get_logger
from app.db.monitor import DatabaseHooks
from app.db.read_router import ReadRouter
from app.db.replicas import Replica
from app.repositories.audit_events import AuditEventRepository
from app.repositories.base import database_errors
from app.repositories.login_attempts import LoginAttemptRepository
from app.repositories.mail_outbox import MailOutboxRepository
from app.repositories.one_time_tokens import OneTimeTokenRepository
from app.repositories.refresh_tokens import RefreshTokenRepository
from app.repositories.registration_attempts import RegistrationAttemptRepository
from app.repositories.schema import SchemaRepository
from app.repositories.sessions import SessionRepository
from app.repositories.users import UserRepository

logger = get_logger("app.db")

WAL_INSERT_POSITION = "SELECT pg_current_wal_insert_lsn()"


class UnitOfWork:
    def __init__(
        self,
        pool: asyncpg.Pool | None,
        *,
        acquire_timeout: float,
        connection: asyncpg.Connection | None = None,
        router: ReadRouter | None = None,
        hooks: DatabaseHooks | None = None,
        transaction_setup: str | None = None,
    ) -> None:
        self._pool = pool
        self._hooks = hooks or DatabaseHooks()  # the app's DatabaseMonitor: metrics, leak watch
        self._acquire_timeout = acquire_timeout
        # A connection handed in (tests) is borrowed: it is never released here.
        self._connection = connection
        self._owns_connection = False
        self._router = router
        self._replica: tuple[Replica, asyncpg.Connection] | None = None
        self._primary_only = router is None  # set for good once the primary serves us
        self._read_after: int | None = None
        # Run after each outermost BEGIN (SET LOCAL timeouts behind PgBouncer: app/db/pooler.py).
        self._transaction_setup = transaction_setup
        self.users = UserRepository(self, self._hooks)
        self.login_attempts = LoginAttemptRepository(self, self._hooks)
        self.refresh_tokens = RefreshTokenRepository(self, self._hooks)
        self.sessions = SessionRepository(self, self._hooks)
        self.schema = SchemaRepository(self, self._hooks)
        self.one_time_tokens = OneTimeTokenRepository(self, self._hooks)
        self.mail_outbox = MailOutboxRepository(self, self._hooks)
        self.registration_attempts = RegistrationAttemptRepository(self, self._hooks)
        self.audit_events = AuditEventRepository(self, self._hooks)

    @classmethod
    def borrowing(cls, connection: asyncpg.Connection) -> UnitOfWork:
        """A unit of work on a connection someone else owns (the test suite's)."""
        return cls(None, acquire_timeout=0, connection=connection)

    @property
    def holds_connection(self) -> bool:
        return self._connection is not None

    def reads_after(self, position: int | None) -> None:
        """This request's replica-safe reads need a replica that has replayed WAL `position`
        (the session's last write); None: any healthy replica will do."""
        self._read_after = position

    async def wal_position(self) -> int | None:
        """Where the primary's WAL ends now, for a session to carry after its write; None
        when no replica is configured (nobody would ever ask).

        Call it after the write's transaction commits: read inside, it would precede the
        commit record, and a replica replayed that far would not show the write yet. The
        insert position, not the flushed one: with synchronous_commit off the commit may
        not be flushed yet, and a replica reaching this position has the commit all the same.
        """
        if self._router is None:
            return None
        connection = await self.connection()
        with database_errors("wal_position"):
            position: int = await connection.fetchval(WAL_INSERT_POSITION)
        return position

    async def connection(self, *, replica_ok: bool = False) -> asyncpg.Connection:
        # replica_ok marks a read the caller accepts from a replica; with no replica
        # configured every read goes to the primary.
        if replica_ok and not self._primary_only:
            replica_connection = await self._replica_connection()
            if replica_connection is not None:
                return replica_connection
        # Any use of the primary (a write, a transaction, a read that must be fresh) may have
        # changed or seen data a replica has not replayed yet: later reads stay here.
        self._primary_only = True
        if self._connection is None:
            if self._pool is None:
                raise RuntimeError("unit of work is closed")
            with database_errors("pool.acquire"):
                self._connection = await self._hooks.acquire(
                    self._pool, timeout_seconds=self._acquire_timeout
                )
            self._owns_connection = True
        return self._connection

    async def _replica_connection(self) -> asyncpg.Connection | None:
        """This request's replica connection, acquired on first use; None when no replica
        is healthy or the chosen one cannot be reached (the read goes to the primary)."""
        if self._replica is not None:
            return self._replica[1]
        assert self._router is not None  # _primary_only is set when there are none
        replica = self._router.replica_for(self._read_after)
        if replica is None:
            return None
        try:
            with database_errors(f"{replica.name}.acquire"):
                connection = await self._hooks.acquire(
                    replica.pool, timeout_seconds=self._acquire_timeout
                )
        except DatabaseError:
            replica.mark_down()
            return None
        self._replica = (replica, connection)
        return connection

    def replica_failed(self, connection: asyncpg.Connection, error: DatabaseError) -> bool:
        """Whether `connection` was this request's replica: if so, the request moves to the
        primary for good (the caller retries its read there) and an unreachable replica
        takes no more reads until the health check finds it up."""
        if self._replica is None or self._replica[1] is not connection:
            return False
        if isinstance(error, DatabaseUnavailableError):
            self._replica[0].mark_down()
        self._primary_only = True
        return True

    def replica_missed(self, connection: asyncpg.Connection) -> bool:
        """Whether `connection` was this request's replica, which found nothing: it may
        just not have replayed the row yet, so the request moves to the primary for good
        and the caller asks there before answering "not found"."""
        if self._replica is None or self._replica[1] is not connection:
            return False
        self._primary_only = True
        return True

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """BEGIN when outermost, SAVEPOINT when nested (also inside a transaction opened
        outside the app). The outermost block commits on success, rolls back on error."""
        connection = await self.connection()
        outermost = not connection.is_in_transaction()
        with database_errors("transaction"):
            async with connection.transaction():
                if outermost and self._transaction_setup is not None:
                    await connection.execute(self._transaction_setup)
                yield

    async def release(self) -> None:
        """Give the connection back early, before slow work that needs no database (checking
        a password costs hundreds of milliseconds of bcrypt); the next use acquires again.

        Refused inside a transaction: that would silently end it.
        """
        await self._release_replica()
        connection = self._connection
        if connection is None or not self._owns_connection:
            return  # nothing held, or a borrowed connection that is not ours to give back
        if connection.is_in_transaction():
            raise RuntimeError("release() inside a transaction would end it")
        await self.close()

    async def close(self) -> None:
        """Release the connection, whatever state the request ended in.

        Shielded so a cancelled request (client gone, timeout) still returns it; asyncpg's
        release rolls back a transaction left open (Connection.reset does, whatever the pool's
        `reset` hook; ours, `_keep_session` in database.py, adds nothing).
        """
        await self._release_replica()
        connection, self._connection = self._connection, None
        if connection is None or not self._owns_connection or self._pool is None:
            return
        self._owns_connection = False
        with anyio.CancelScope(shield=True):
            try:
                await self._hooks.release(
                    self._pool, connection, timeout_seconds=self._acquire_timeout
                )
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError):
                # The rollback on release failed, so asyncpg terminated the connection and
                # the pool will open a fresh one. The request's work is over: its answer
                # stands, rather than turning into a 500 at the last moment.
                logger.warning("connection release failed; connection discarded", exc_info=True)

    async def _release_replica(self) -> None:
        replica, self._replica = self._replica, None
        if replica is None:
            return
        with anyio.CancelScope(shield=True):
            try:
                with database_errors(f"{replica[0].name}.release"):
                    await self._hooks.release(
                        replica[0].pool, replica[1], timeout_seconds=self._acquire_timeout
                    )
            except DatabaseError:
                pass  # asyncpg has terminated it; the request's reads already got their answer
