"""Migration tests: each test gets an empty database of its own and drives alembic on it.

pytest-alembic would give several of these tests for free, but its 0.13.1 fails to collect
under pytest 9.2 (the version pinned here), so the few we need are written out in
this package instead of pinning pytest back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.scratch_databases import ScratchDatabases


@pytest.fixture(scope="session")
async def empty_databases(server_url: str) -> AsyncIterator[ScratchDatabases]:
    databases = ScratchDatabases(server_url, None, "auth_migrations")
    yield databases
    await databases.close()


@pytest.fixture
async def empty_database(empty_databases: ScratchDatabases) -> AsyncIterator[str]:
    """A database of this test's own with nothing in it (a used one only once it is provably
    empty again)."""
    async with empty_databases.lend() as url:
        yield url
