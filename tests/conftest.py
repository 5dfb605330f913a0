"""Shared fixtures. The isolation model:

* one migrated template database per session;
* one connection holding an outer transaction for the whole session, and a SAVEPOINT per
  test that is rolled back afterwards (`conn`); the app under test gets that connection
  through its unit of work, so the app's own transactions become savepoints;
* tests that need real commits or several connections get a database of their own,
  copied from the template, or a used one cleaned and checked to be as good as new
  (`own_database`; tests/support/scratch_databases.py). docs/testing.md has the whole story.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.core.passwords import PasswordHasher
from app.core.settings import Settings
from app.db.local import create_database, drop_database, free_port
from app.db.uow import UnitOfWork
from tests.support.database import migrated_template, postgres_server, unique_name, with_database
from tests.support.http import borrowing_app, client_for
from tests.support.scratch_databases import ScratchDatabases
from tests.support.settings import TEST_ROUNDS, make_settings
from tests.support.smtp import MailCatcher

# The app defaults to production; the suite says what it is (subprocesses inherit this).
os.environ["APP_ENV"] = "test"

# Session fixtures that are costly to start, and the xdist group whose tests share them: under
# `make test` (pytest-xdist, --dist loadgroup) those tests run on one worker, so the replica
# and its primary start once per run, not once per worker.
SHARED_ON_ONE_WORKER = {"replicated": "replica"}


def pytest_configure(config: pytest.Config) -> None:
    # A worker that finds its groups ignored (below) stops the run, but xdist shows only
    # the crash; this says why, before any worker starts.
    if getattr(config.option, "dist", "no") == "loadgroup" and pytest.version_tuple >= (9, 2):
        raise pytest.UsageError(
            f"pytest {pytest.__version__}: pytest-xdist's --dist loadgroup groups nothing under "
            "pytest 9.2 (constraints.txt pins 9.1.1; `make install` puts it back)"
        )


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> Iterator[None]:
    for item in items:
        for fixture, group in SHARED_ON_ONE_WORKER.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.xdist_group(group))
    yield  # xdist's own hook marks each grouped test's node id with "@group"
    # A pytest that xdist's grouping does not work with (9.2, constraints.txt) spreads the
    # groups over the workers without a word: say so instead.
    if getattr(config.option, "loadgroup", False):
        ungrouped = [
            i.nodeid for i in items if i.get_closest_marker("xdist_group") and "@" not in i.nodeid
        ]
        if ungrouped:
            raise pytest.UsageError(f"--dist loadgroup grouped nothing (e.g. {ungrouped[0]})")


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
async def template_url(server_url: str) -> AsyncIterator[str]:
    """A migrated database nobody stays connected to, so it can be copied quickly."""
    async with migrated_template(server_url) as name:
        yield with_database(server_url, name)


@pytest.fixture(scope="session")
async def session_connection(
    server_url: str, template_url: str
) -> AsyncIterator[asyncpg.Connection]:
    name = unique_name("auth_session")
    await create_database(server_url, name, template=template_url.rpartition("/")[2])
    connection = await asyncpg.connect(with_database(server_url, name))
    outer = connection.transaction()
    await outer.start()  # not execute("BEGIN"): asyncpg must know, to nest savepoints
    yield connection
    await outer.rollback()
    await connection.close()
    await drop_database(server_url, name)


@pytest.fixture
async def conn(session_connection: asyncpg.Connection) -> AsyncIterator[asyncpg.Connection]:
    """The shared connection inside a per-test SAVEPOINT, rolled back afterwards."""
    savepoint = session_connection.transaction()
    await savepoint.start()
    try:
        yield session_connection
    finally:
        await savepoint.rollback()


@pytest.fixture(scope="session")
async def migrated_databases(server_url: str, template_url: str) -> AsyncIterator[ScratchDatabases]:
    databases = ScratchDatabases(server_url, template_url.rpartition("/")[2], "auth_test")
    yield databases
    await databases.close()


@pytest.fixture
async def own_database(migrated_databases: ScratchDatabases) -> AsyncIterator[str]:
    """A migrated database of this test's own, for real commits and many connections (a used
    one only once it is provably as good as new: tests/support/scratch_databases.py)."""
    async with migrated_databases.lend() as url:
        yield url


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def hasher() -> PasswordHasher:
    return PasswordHasher(rounds=TEST_ROUNDS)


@pytest.fixture
def uow(conn: asyncpg.Connection) -> UnitOfWork:
    return UnitOfWork.borrowing(conn)


@pytest.fixture
def app(settings: Settings, conn: asyncpg.Connection) -> FastAPI:
    return borrowing_app(settings, conn)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as http:
        yield http


@pytest.fixture
async def unreachable_pool() -> AsyncIterator[asyncpg.Pool]:
    """A real pool whose server is not there (a port nothing listens on)."""
    pool = asyncpg.create_pool(f"postgresql://postgres@127.0.0.1:{free_port()}/x", min_size=0)
    await pool
    yield pool
    await pool.close()


@pytest.fixture
def mail_catcher() -> Iterator[MailCatcher]:
    """A real SMTP server (aiosmtpd) of this test's own; see tests/support/smtp.py."""
    catcher = MailCatcher()
    catcher.start()
    try:
        yield catcher
    finally:
        catcher.stop()
