"""Migration tests: each test gets an empty database of its own and drives alembic on it.

pytest-alembic would give several of these tests for free, but its 0.13.1 fails to collect
under pytest 9.2 (the version pinned here), so the few we need are written out in
this package instead of pinning pytest back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.db.local import create_database, drop_database
from tests.support.database import unique_name, with_database


@pytest.fixture
async def empty_database(server_url: str) -> AsyncIterator[str]:
    """A database of this test's own with nothing in it, dropped afterwards."""
    name = unique_name("auth_migrations")
    await create_database(server_url, name)
    yield with_database(server_url, name)
    await drop_database(server_url, name)


# TEMPORARY, for merging the other branches, to be removed after: helpers that used to be
# defined here live in tests.support.migrations now.
from tests.support.migrations import (  # noqa: E402
    at_head_with_users,
    check,
    create_users,
    downgrade,
    revisions,
    schema_of,
    users_rows,
)

__all__ = [
    "at_head_with_users",
    "check",
    "create_users",
    "downgrade",
    "revisions",
    "schema_of",
    "users_rows",
]
