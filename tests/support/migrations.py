"""Driving alembic and reading what it left: for the migration tests and `db check` tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.emails import normalize_email
from app.db import catalog
from app.db.schema_check import SchemaReport, check_schema
from app.db.uow import UnitOfWork
from app.db.urls import sqlalchemy_async_url
from tests.support.database import alembic_config, migrate


def revisions() -> list[str]:
    """Every revision id, oldest first."""
    script = ScriptDirectory.from_config(alembic_config("unused"))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


# alembic's env runs its own event loop: each command gets a thread of its own (upgrades:
# tests.support.database.migrate).
async def downgrade(url: str, revision: str = "-1") -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(url), revision)


async def check(url: str, revision: str = "head") -> SchemaReport:
    return await asyncio.to_thread(check_schema, alembic_config(url), url, revision)


async def schema_of(url: str) -> catalog.Snapshot:
    """The normalised description of the database's public schema."""
    engine = create_async_engine(sqlalchemy_async_url(url), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(catalog.snapshot)
    finally:
        await engine.dispose()


async def users_rows(url: str) -> list[dict[str, Any]]:
    """Every users row as a column → value dict, whatever columns this revision has."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT to_jsonb(u) AS row FROM users u ORDER BY id")
    finally:
        await conn.close()
    return [json.loads(row["row"]) for row in rows]


async def create_users(url: str) -> None:
    """Users as the application makes them, through the real repository (emails in the
    normal form the service gives them)."""
    conn = await asyncpg.connect(url)
    try:
        uow = UnitOfWork.borrowing(conn)
        async with uow.transaction():
            await uow.users.create(
                email=normalize_email("Ada@Example.com"), password_hash="h1", full_name="Ada"
            )
            grace = await uow.users.create(
                email="grace@example.com", password_hash="h2", full_name=None
            )
            await uow.users.record_login(grace.id, verified_hash="h2", new_hash=None)
            await uow.users.set_active(grace.id, False)
    finally:
        await conn.close()


async def at_head_with_users(url: str) -> list[dict[str, Any]]:
    """Migrate `url` to head, add users through the repository, return their rows."""
    await migrate(url)
    await create_users(url)
    return await users_rows(url)
