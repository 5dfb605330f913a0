"""Where the bench's PostgreSQL comes from, and the users it is seeded with.

TEST_DATABASE_URL or DATABASE_URL names a server to use; otherwise a throwaway cluster is
started from the server binaries (like the test suite's: fsync off) and removed at the end.
Either way the bench works in a fresh database of its own, migrated to head, dropped after.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config

from app.core.passwords import PasswordHasher
from app.core.settings import Settings
from app.core.tokens import TokenCodec
from app.db import local
from app.db.uow import UnitOfWork

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"  # noqa: S105 (the seeded users' password)


@contextmanager
def postgres_server() -> Iterator[tuple[str, str]]:
    """(URL to a maintenance database, where it came from)."""
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        yield url, "the server named by TEST_DATABASE_URL / DATABASE_URL"
        return
    workdir = Path(tempfile.mkdtemp(prefix="auth-bench-pg-"))
    workdir.chmod(0o755)  # the server runs as `postgres` when we are root
    cluster = local.LocalCluster(workdir / "data")
    try:
        cluster.init(durable=False)
        cluster.start()
        yield cluster.url("postgres"), "a throwaway local cluster (fsync off, like the tests')"
    finally:
        if cluster.initialised and cluster.running:
            cluster.stop("immediate")
        shutil.rmtree(workdir, ignore_errors=True)


def with_database(url: str, name: str) -> str:
    base, _, rest = url.rpartition("/")
    query = rest.partition("?")[2]
    return f"{base}/{name}" + (f"?{query}" if query else "")


@contextmanager
def bench_database(server_url: str) -> Iterator[str]:
    """A fresh database migrated to head, dropped afterwards."""
    name = f"auth_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(local.create_database(server_url, name))
    url = with_database(server_url, name)
    try:
        config = Config(str(ROOT / "alembic.ini"))
        config.set_main_option("script_location", str(ROOT / "alembic"))
        config.attributes["database_url"] = url
        config.attributes["configure_logger"] = False
        command.upgrade(config, "head")
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
    quick), and an access token for each, signed as the server will verify them."""
    password_hash = await PasswordHasher(rounds=settings.bcrypt_rounds).hash(PASSWORD)
    codec = TokenCodec(
        secret=settings.jwt_secret,
        algorithm=settings.jwt_algorithm,
        expires_minutes=settings.jwt_expires_minutes,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
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
                emails.append(email)
                tokens.append(codec.issue(str(user.id)).token)
    finally:
        await conn.close()
    return Seeded(emails=emails, tokens=tokens)
