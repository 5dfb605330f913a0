"""The suite's own-database reuse: a used database comes back only when it is as good as
new (tests/support/scratch_databases.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.support.scratch_databases import ScratchDatabases


@pytest.fixture
async def databases(server_url: str, template_url: str) -> AsyncIterator[ScratchDatabases]:
    scratch = ScratchDatabases(server_url, template_url.rpartition("/")[2], "auth_reuse")
    yield scratch
    await scratch.close()


async def test_rows_and_sessions_are_gone_and_the_database_is_reused(
    databases: ScratchDatabases,
) -> None:
    async with databases.lend() as url:
        left_open = await asyncpg.connect(url)  # a test that forgot to close
        await left_open.execute(
            "INSERT INTO users (email, password_hash) VALUES ('a@example.com', 'x')"
        )
        await left_open.execute("SELECT nextval(pg_get_serial_sequence('login_attempts', 'id'))")
    async with databases.lend() as again:
        assert again == url and databases.made == 1
        conn = await asyncpg.connect(again)
        try:
            assert await conn.fetchval("SELECT count(*) FROM users") == 0
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                == 0
            )
            assert await conn.fetchval("SELECT version_num FROM alembic_version") is not None
            identity = (
                "SELECT last_value FROM pg_sequences WHERE sequencename LIKE 'login_attempts%'"
            )
            assert await conn.fetchval(identity) is None  # restarted, as in a fresh copy
        finally:
            await conn.close()
    assert left_open.is_closed()


async def test_a_changed_schema_gets_a_fresh_copy(databases: ScratchDatabases) -> None:
    async with databases.lend() as url:
        conn = await asyncpg.connect(url)
        await conn.execute("ALTER TABLE users ADD COLUMN nickname text")
        await conn.close()
    async with databases.lend() as fresh:
        assert fresh != url and databases.made == 2
        conn = await asyncpg.connect(fresh)
        try:
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM information_schema.columns "
                    "WHERE table_name = 'users' AND column_name = 'nickname'"
                )
                == 0
            )
        finally:
            await conn.close()
