"""The development database that `make run` starts under .data/ when DATABASE_URL is unset."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import asyncpg
import pytest

from app.db.local import LocalCluster, ensure_dev_database

pytestmark = pytest.mark.cluster


async def test_dev_database_is_created_once_and_reused() -> None:
    with tempfile.TemporaryDirectory(prefix="auth-dev-") as tmp:
        Path(tmp).chmod(0o755)  # the server runs as `postgres` when we are root
        data_dir = Path(tmp) / ".data" / "postgres"
        try:
            url = await asyncio.to_thread(ensure_dev_database, data_dir)
            connection = await asyncpg.connect(url)
            await connection.execute("CREATE TABLE kept (id int)")
            await connection.close()

            again = await asyncio.to_thread(ensure_dev_database, data_dir)
            assert again == url
            connection = await asyncpg.connect(again)
            assert await connection.fetchval("SELECT to_regclass('kept') IS NOT NULL")
            await connection.close()
        finally:
            cluster = LocalCluster(data_dir.resolve())
            if cluster.running:
                cluster.stop("immediate")
