"""Revision 20261127_0003 (login_attempts, refresh_tokens): rolls back and matches metadata."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from alembic import command

from tests.support.database import alembic_config, migrate

pytestmark = pytest.mark.slow

REVISION = "20261127_0003"


async def tables(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await conn.close()
    return {row["tablename"] for row in rows}


async def test_downgrade_drops_both_tables_and_upgrade_restores_them(own_database: str) -> None:
    assert {"login_attempts", "refresh_tokens"} <= await tables(own_database)
    config = alembic_config(own_database)
    await migrate(own_database, REVISION)
    await asyncio.to_thread(command.downgrade, config, f"{REVISION}-1")  # just this revision
    assert not {"login_attempts", "refresh_tokens"} & await tables(own_database)
    assert "users" in await tables(own_database)
    await migrate(own_database, REVISION)
    assert {"login_attempts", "refresh_tokens"} <= await tables(own_database)


async def test_schema_matches_the_table_metadata(own_database: str) -> None:
    # alembic check raises when autogenerate would emit any operation.
    await asyncio.to_thread(command.check, alembic_config(own_database))
