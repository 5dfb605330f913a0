"""Where the suite's PostgreSQL comes from, and how it gets databases of its own.

TEST_DATABASE_URL names a server to use; otherwise a throwaway cluster is started from the
server binaries (initdb into a temp dir, a free port) and removed at the end.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config

from app.db import local
from tests.support.initdb_cache import fresh_cluster
from tests.support.paths import ROOT as ROOT  # where it always was


@contextmanager
def postgres_server() -> Iterator[str]:
    """A URL to a maintenance database on a server the suite may create databases on."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    with throwaway_cluster() as url:
        yield url


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """A cluster of the suite's own, started from the server binaries, removed at the end."""
    with scratch_cluster() as cluster:
        yield cluster.url("postgres")


# Throwaway clusters live in memory when the machine has room there. PostgreSQL creates and
# opens a file per relation fork: some 1,500 openat calls per CREATE DATABASE. On this
# machine's ext4 (a virtual disk mounted with discard) one took 200 us against 13 us on
# tmpfs, so each copy cost 0.3 s of kernel time; on tmpfs 0.01 s (docs/testing.md).
IN_MEMORY = Path("/dev/shm")
IN_MEMORY_MIN_FREE = 2 * 1024**3  # a container's default /dev/shm (64 MB) is not room


def cluster_parent() -> Path | None:
    """The directory throwaway clusters go in: tmpfs with room, else the temp default."""
    try:
        stats = os.statvfs(IN_MEMORY)
    except OSError:
        return None
    roomy = stats.f_bavail * stats.f_frsize >= IN_MEMORY_MIN_FREE
    return IN_MEMORY if roomy and os.access(IN_MEMORY, os.W_OK) else None


@contextmanager
def scratch_cluster(
    build: Callable[[Path], local.LocalCluster] | None = None,
) -> Iterator[local.LocalCluster]:
    """A running cluster in a temp dir of its own (what `build` makes of its data dir: a
    fresh one by default, or a replica), stopped and removed at the end."""
    build = build or fresh_cluster
    workdir = Path(tempfile.mkdtemp(prefix="auth-service-test-pg-", dir=cluster_parent()))
    workdir.chmod(0o755)  # the server runs as `postgres` when we are root
    cluster: local.LocalCluster | None = None
    try:
        cluster = build(workdir / "data")
        cluster.start()
        yield cluster
    finally:
        if cluster is not None and cluster.initialised and cluster.running:
            cluster.stop("immediate")
        shutil.rmtree(workdir, ignore_errors=True)


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` instead."""
    base, _, rest = url.rpartition("/")
    query = rest.partition("?")[2]
    return f"{base}/{name}" + (f"?{query}" if query else "")


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    return config


async def migrate(url: str, revision: str = "head") -> None:
    # alembic's env runs its own event loop: give it a thread of its own.
    await asyncio.to_thread(command.upgrade, alembic_config(url), revision)


@asynccontextmanager
async def migrated_template(server_url: str) -> AsyncIterator[str]:
    """A migrated database nobody stays connected to, so it copies quickly; yields its name."""
    name = unique_name("auth_template")
    await local.create_database(server_url, name)
    try:
        await migrate(with_database(server_url, name))
        yield name
    finally:
        await local.drop_database(server_url, name)
