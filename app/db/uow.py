"""The unit of work: the only door to the database for one request.

It acquires a pooled connection on first use only, shares it with every repository
(`uow.users`), nests transactions as savepoints, and always gives the connection back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import asyncpg

from app.repositories.base import database_errors
from app.repositories.users import UserRepository


class UnitOfWork:
    def __init__(
        self,
        pool: asyncpg.Pool | None,
        *,
        acquire_timeout: float,
        connection: asyncpg.Connection | None = None,
    ) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout
        # A connection handed in (tests) is borrowed: it is never released here.
        self._connection = connection
        self._owns_connection = False
        self.users = UserRepository(self)

    @classmethod
    def borrowing(cls, connection: asyncpg.Connection) -> UnitOfWork:
        """A unit of work on a connection someone else owns (the test suite's)."""
        return cls(None, acquire_timeout=0, connection=connection)

    @property
    def holds_connection(self) -> bool:
        return self._connection is not None

    async def connection(self, *, replica_ok: bool = False) -> asyncpg.Connection:
        # replica_ok marks a read the caller accepts from a replica; with no replica
        # configured every read goes to the primary.
        if self._connection is None:
            if self._pool is None:
                raise RuntimeError("unit of work is closed")
            with database_errors("pool.acquire"):
                self._connection = await self._pool.acquire(timeout=self._acquire_timeout)
            self._owns_connection = True
        return self._connection

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """BEGIN when outermost, SAVEPOINT when nested (also inside a transaction opened
        outside the app). The outermost block commits on success, rolls back on error."""
        connection = await self.connection()
        with database_errors("transaction"):
            async with connection.transaction():
                yield

    async def ping(self) -> None:
        connection = await self.connection()
        with database_errors("ping"):
            await connection.fetchval("SELECT 1")

    async def release(self) -> None:
        """Give the connection back early, before slow work that needs no database (checking
        a password costs hundreds of milliseconds of bcrypt); the next use acquires again.

        Refused inside a transaction: that would silently end it.
        """
        connection = self._connection
        if connection is None or not self._owns_connection:
            return  # nothing held, or a borrowed connection that is not ours to give back
        if connection.is_in_transaction():
            raise RuntimeError("release() inside a transaction would end it")
        await self.close()

    async def close(self) -> None:
        """Release the connection, whatever state the request ended in.

        Shielded so a cancelled request (client gone, timeout) still returns it; asyncpg's
        release rolls back a transaction left open and resets session state.
        """
        connection, self._connection = self._connection, None
        if connection is None or not self._owns_connection or self._pool is None:
            return
        self._owns_connection = False
        with anyio.CancelScope(shield=True):
            await self._pool.release(connection, timeout=self._acquire_timeout)
