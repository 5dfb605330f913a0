"""Alembic environment: async, on the same URL the app uses."""

from __future__ import annotations

import asyncio
import logging.config

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.tables import metadata
from app.db.urls import migration_database_url

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = metadata


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        # `alembic check` and autogenerate compare types and server defaults too, but not
        # CHECK expressions or partial-index predicates; `auth-service db check` does.
        compare_type=True,
        compare_server_default=True,
        # One transaction per migration: a failing revision leaves no half-applied DDL.
        transaction_per_migration=True,
    )


def _run_sync(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_async_engine(migration_database_url(config), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    _configure(url=migration_database_url(config))
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
