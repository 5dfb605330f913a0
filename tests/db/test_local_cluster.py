"""The development database that `make run` starts under .data/ when DATABASE_URL is unset
(or under /var/tmp, when the server user cannot reach .data/)."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

import asyncpg
import pytest

from app.db.local import (
    SHARED_STATE_DIR,
    LocalCluster,
    dev_cluster_dir,
    ensure_dev_database,
    stop_dev_cluster,
)
from app.db.urls import dev_data_dir
from tests.support.cli import auth_service
from tests.support.database import cluster_parent

pytestmark = pytest.mark.cluster


async def test_dev_database_is_created_once_and_reused() -> None:
    # In memory where the suite's clusters are (initdb writes some 1,000 files).
    with tempfile.TemporaryDirectory(prefix="auth-dev-", dir=cluster_parent()) as tmp:
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


async def test_make_run_works_from_a_directory_the_server_user_cannot_enter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A checkout under /root or in a `mktemp -d` directory, as root: `db upgrade` (what
    `make run` does first) keeps the cluster where `postgres` can reach it and says where;
    the next command reuses it, `make db-stop` stops it, and no directory of the user's
    changes its permissions."""
    private = tmp_path / "private"
    private.mkdir()
    private.chmod(0o700)
    checkout = private / "checkout"
    checkout.mkdir()
    modes = {path: path.stat().st_mode for path in (tmp_path, private, checkout)}
    monkeypatch.chdir(checkout)
    data_dir = dev_cluster_dir(dev_data_dir())
    development = {"APP_ENV": "development"}
    try:
        first = await auth_service("db", "upgrade", env=development)
        assert first.exit_code == 0, first.output
        if os.geteuid() == 0:  # the server runs as `postgres`, who cannot enter `private`
            assert data_dir.parent.parent == SHARED_STATE_DIR
            assert not (checkout / ".data").exists()
            assert f"development cluster in {data_dir}" in caplog.text
        else:  # the server runs as us: the checkout is reachable
            assert data_dir == checkout / ".data" / "postgres"
        cluster = LocalCluster(data_dir)
        port = cluster.port

        again = await auth_service("db", "current", env=development)
        assert "(head)" in again.stdout  # the same, migrated database
        assert cluster.port == port

        stop_dev_cluster(dev_data_dir())
        assert not cluster.running
        assert {path: path.stat().st_mode for path in modes} == modes
    finally:
        if LocalCluster(data_dir).initialised and LocalCluster(data_dir).running:
            LocalCluster(data_dir).stop("immediate")
        if data_dir.parent.parent == SHARED_STATE_DIR:
            shutil.rmtree(data_dir.parent)
