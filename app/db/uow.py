"""The unit of work: the only door to the database for one request.

It acquires a pooled connection on first use only, shares it with every repository
(`uow.users`), nests transactions as savepoints, and always gives the connection back.
With replicas configured, a read marked `replica_ok` goes through the request's
`ReplicaReads` (app/db/read_router.py), which routes it and retries it on the primary; any
use of the primary here pins the request there. A request holds at most one connection per
pool (one replica, the primary).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import anyio
import asyncpg
from asyncpg.pool import PoolConnectionProxy

from app.core.database_errors import database_errors
from app.core.logging import get_logger
from app.db.monitor import PoolAccess
from app.db.read_router import ReadRouter, ReplicaReads
from app.repositories.audit_events import AuditEventRepository
from app.repositories.base import Acquire, Connection, QueryObserver, Unobserved
from app.repositories.login_attempts import LoginAttemptRepository
from app.repositories.mail_outbox import MailOutboxRepository
from app.repositories.one_time_tokens import OneTimeTokenRepository
from app.repositories.refresh_tokens import RefreshTokenRepository
from app.repositories.registration_attempts import RegistrationAttemptRepository
from app.repositories.schema import SchemaRepository
from app.repositories.sessions import SessionRepository
from app.repositories.users import UserRepository

logger = get_logger("app.db")

T = TypeVar("T")

WAL_INSERT_POSITION = "SELECT pg_current_wal_insert_lsn()"


class UnitOfWork:
    def __init__(
        self,
        pool: asyncpg.Pool | None,
        *,
        acquire_timeout: float,
        connection: Connection | None = None,
        router: ReadRouter | None = None,
        access: PoolAccess | None = None,
        observer: QueryObserver | None = None,
        transaction_setup: str | None = None,
    ) -> None:
        self._pool = pool
        self._access = access or PoolAccess()  # the app's DatabaseMonitor: metrics, leak watch
        self._acquire_timeout = acquire_timeout
        # A connection handed in (tests) is borrowed: it is never released here. The one
        # acquired here is also `_owned`, the pool's proxy that goes back to the pool.
        self._connection = connection
        self._owned: PoolConnectionProxy | None = None
        self._replica_reads = (
            None
            if router is None
            else ReplicaReads(router, self._access, acquire_timeout=acquire_timeout)
        )
        # Run after each outermost BEGIN (SET LOCAL timeouts behind PgBouncer: app/db/pooler.py).
        self._transaction_setup = transaction_setup
        observer = observer or Unobserved()
        self.users = UserRepository(self, observer)
        self.login_attempts = LoginAttemptRepository(self, observer)
        self.refresh_tokens = RefreshTokenRepository(self, observer)
        self.sessions = SessionRepository(self, observer)
        self.schema = SchemaRepository(self, observer)
        self.one_time_tokens = OneTimeTokenRepository(self, observer)
        self.mail_outbox = MailOutboxRepository(self, observer)
        self.registration_attempts = RegistrationAttemptRepository(self, observer)
        self.audit_events = AuditEventRepository(self, observer)

    @classmethod
    def borrowing(cls, connection: Connection) -> UnitOfWork:
        """A unit of work on a connection someone else owns (the test suite's)."""
        return cls(None, acquire_timeout=0, connection=connection)

    @property
    def holds_connection(self) -> bool:
        return self._connection is not None

    def reads_after(self, position: int | None) -> None:
        """This request's replica-safe reads need a replica that has replayed WAL `position`
        (the session's last write); None: any healthy replica will do."""
        if self._replica_reads is not None:
            self._replica_reads.reads_after(position)

    async def wal_position(self) -> int | None:
        """Where the primary's WAL ends now, for a session to carry after its write; None
        when no replica is configured (nobody would ever ask).

        Call it after the write's transaction commits: read inside, it would precede the
        commit record, and a replica replayed that far would not show the write yet. The
        insert position, not the flushed one: with synchronous_commit off the commit may
        not be flushed yet, and a replica reaching this position has the commit all the same.
        """
        if self._replica_reads is None:
            return None
        connection = await self.connection()
        with database_errors("wal_position"):
            position: int = await connection.fetchval(WAL_INSERT_POSITION)
        return position

    async def connection(self, *, replica_ok: bool = False) -> Connection:
        """The request's connection: the primary's, or with `replica_ok` (a read the caller
        accepts from a replica) the replica's while the request is not pinned to the primary.
        """
        if replica_ok and self._replica_reads is not None:
            replica_connection = await self._replica_reads.connection()
            if replica_connection is not None:
                return replica_connection
        if self._replica_reads is not None:
            self._replica_reads.pinned = True
        if self._connection is None:
            if self._pool is None:
                raise RuntimeError("unit of work is closed")
            with database_errors("pool.acquire"):
                self._connection = self._owned = await self._access.acquire(
                    self._pool, name="primary", timeout_seconds=self._acquire_timeout
                )
        return self._connection

    async def replica_first(self, attempt: Callable[[Acquire], Awaitable[T]]) -> T:
        """A repository's replica-safe read: routed, and retried, by the read router."""
        if self._replica_reads is None:
            return await attempt(self.connection)
        return await self._replica_reads.read(attempt, primary=self.connection)

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
        await self._release_replica_reads()
        connection = self._owned
        if connection is None:
            return  # nothing held, or a borrowed connection that is not ours to give back
        if connection.is_in_transaction():
            raise RuntimeError("release() inside a transaction would end it")
        await self.close()

    async def close(self) -> None:
        """Release the connection, whatever state the request ended in.

        Shielded so a cancelled request (client gone, timeout) still returns it; asyncpg's
        release rolls back a transaction left open (Connection.reset does, whatever the pool's
        `reset` hook; ours, `keep_session` in pool_release.py, adds nothing).
        """
        await self._release_replica_reads()
        connection, self._connection, self._owned = self._owned, None, None
        if connection is None or self._pool is None:
            return
        with anyio.CancelScope(shield=True):
            try:
                await self._access.release(
                    self._pool, connection, timeout_seconds=self._acquire_timeout
                )
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError):
                # The rollback on release failed, so asyncpg terminated the connection and
                # the pool will open a fresh one. The request's work is over: its answer
                # stands, rather than turning into a 500 at the last moment.
                logger.warning("connection release failed; connection discarded", exc_info=True)

    async def _release_replica_reads(self) -> None:
        if self._replica_reads is not None:
            await self._replica_reads.release()
