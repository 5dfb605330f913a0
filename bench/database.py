"""Where the bench's PostgreSQL comes from, and the users it is seeded with.

DATABASE_URL or TEST_DATABASE_URL names a server to use; otherwise the test suite's own
throwaway cluster (tests/database.py: started from the server binaries, fsync off) is used
and removed at the end.
Either way the bench works in a fresh database of its own, migrated to head, dropped after.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import asyncpg
from alembic import command

from app.core.passwords import PasswordHasher
from app.core.settings import Settings
from app.core.tokens import AccessClaims, TokenCodec
from app.db import local
from app.db.uow import UnitOfWork
from tests.support.database import ROOT, alembic_config, with_database
from tests.support.database import postgres_server as test_server

PASSWORD = "correct horse battery staple"  # noqa: S105 (the seeded users' password)


@contextmanager
def postgres_server() -> Iterator[tuple[str, str]]:
    """(URL to a maintenance database, where it came from): DATABASE_URL's server, else the
    test suite's (TEST_DATABASE_URL, or a throwaway cluster with fsync off)."""
    url = os.environ.get("DATABASE_URL")
    if url and not os.environ.get("TEST_DATABASE_URL"):
        yield url, "the server named by DATABASE_URL"
        return
    source = (
        "the server named by TEST_DATABASE_URL"
        if os.environ.get("TEST_DATABASE_URL")
        else "a throwaway local cluster, fsync off, like the test suite's"
    )
    with test_server() as server_url:
        yield server_url, source


@contextmanager
def bench_database(server_url: str) -> Iterator[str]:
    """A fresh database migrated to head, dropped afterwards."""
    name = f"auth_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(local.create_database(server_url, name))
    try:
        url = with_database(server_url, name)
        command.upgrade(alembic_config(url), "head")
        yield url
    finally:
        asyncio.run(local.drop_database(server_url, name))


async def server_version(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        version: str = await conn.fetchval("SHOW server_version")
        return version
    finally:
        await conn.close()


@dataclass(frozen=True)
class Seeded:
    emails: list[str]
    tokens: list[str]
    password: str = PASSWORD


async def seed_users(url: str, settings: Settings, count: int) -> Seeded:
    """`count` users through the repository (one bcrypt hash shared, to keep seeding
    quick), each with a session, and an access token for it, signed as the server will
    verify them."""
    password_hash = await PasswordHasher(rounds=settings.bcrypt_rounds).hash(PASSWORD)
    codec = TokenCodec.from_settings(settings)
    conn = await asyncpg.connect(url)
    try:
        uow = UnitOfWork.borrowing(conn)
        emails, tokens = [], []
        async with uow.transaction():
            for number in range(count):
                email = f"bench{number:04d}@example.com"
                user = await uow.users.create(
                    email=email, password_hash=password_hash, full_name=f"Bench User {number}"
                )
                session_id = await uow.sessions.open(
                    user.id,
                    max_age=timedelta(days=settings.session_max_age_days),
                    user_agent="bench",
                    address="127.0.0.1",
                )
                emails.append(email)
                claims = AccessClaims(user_id=user.id, session_id=session_id)
                tokens.append(codec.issue(claims).token)
    finally:
        await conn.close()
    return Seeded(emails=emails, tokens=tokens)


@contextmanager
def primary_and_replica(
    database: str, *, prefix: str
) -> Iterator[tuple[local.LocalCluster, local.LocalCluster]]:
    """A throwaway primary with `database` migrated to head, and a streaming replica of it,
    both on this machine; stopped and removed at the end."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    workdir.chmod(0o755)  # the servers run as postgres when we are root
    primary = local.LocalCluster(workdir / "primary")
    replica: local.LocalCluster | None = None
    try:
        primary.init(durable=False)
        primary.start()
        asyncio.run(local.create_database(primary.url(), database))
        subprocess.run(
            [sys.executable, "-m", "app", "db", "upgrade"],
            env=os.environ | {"DATABASE_URL": primary.url(database), "APP_ENV": "test"},
            cwd=ROOT,
            check=True,
        )
        replica = local.LocalCluster.replica_of(primary.url(), workdir / "replica", durable=False)
        replica.start()
        yield primary, replica
    finally:
        for cluster in (replica, primary):
            if cluster is not None and cluster.initialised and cluster.running:
                cluster.stop("immediate")
        shutil.rmtree(workdir, ignore_errors=True)
