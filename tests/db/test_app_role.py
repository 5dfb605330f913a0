"""Least privilege: the server can run as a login role that is only a member of the app role
(revision 20261202_0008), and that role cannot change or remove audit rows."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from app.core.errors import DatabaseError
from app.core.models import AuditEventType
from app.db.uow import UnitOfWork
from app.services.retention import prune
from tests.support.http import client_for, live_app, register
from tests.support.sessions import bearer, login, me
from tests.support.settings import TEST_PASSWORD

APP_ROLE = "auth_service_app"  # the migration's default (DATABASE_APP_ROLE)


def as_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


@pytest.fixture
async def app_url(own_database: str) -> AsyncIterator[str]:
    """A URL of `own_database` for a fresh login role whose only grant is membership of the
    app role, as an operator would set up the server's role."""
    login_role = f"api_{uuid.uuid4().hex[:10]}"
    owner = await asyncpg.connect(own_database)
    try:
        await owner.execute(f"CREATE ROLE {login_role} LOGIN IN ROLE {APP_ROLE}")
        yield as_user(own_database, login_role)
    finally:
        await owner.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1",
            login_role,
        )
        await owner.execute(f"DROP ROLE {login_role}")
        await owner.close()


async def test_the_app_role_may_append_audit_rows_but_not_change_them(app_url: str) -> None:
    connection = await asyncpg.connect(app_url)
    try:
        uow = UnitOfWork.borrowing(connection)
        async with uow.transaction():
            await uow.audit_events.record(AuditEventType.LOGIN, user_id=uuid.uuid4())
        assert await connection.fetchval("SELECT count(*) FROM audit_events") == 1
        for statement in (
            "UPDATE audit_events SET address = 'forged'",
            "DELETE FROM audit_events",
            "TRUNCATE audit_events",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(statement)
        assert await connection.fetchval("SELECT count(*) FROM audit_events") == 1
        # db prune's audit step is the owner's: as the app role it is refused too.
        with pytest.raises(DatabaseError, match=r"audit_events\.prune") as refused:
            await prune(uow, older_than_days=30, audit_retention_days=1)
        assert isinstance(refused.value.__cause__, asyncpg.InsufficientPrivilegeError)
    finally:
        await connection.close()


async def test_the_server_works_as_the_app_role(app_url: str) -> None:
    async with (
        live_app(app_url, log_level="WARNING") as application,
        client_for(application) as http,
    ):
        assert (await http.get("/ready")).status_code == 200
        await register(http)
        pair = await login(http)
        assert await me(http, pair) == 200
        change = await http.post(
            "/api/v1/users/me/password",
            json={"current_password": TEST_PASSWORD, "new_password": "another long passphrase"},
            headers=bearer(pair),
        )
        assert change.status_code == 204, change.text
        pair = await login_with(http, "another long passphrase")
        deletion = await http.request(
            "DELETE",
            "/api/v1/users/me",
            json={"password": "another long passphrase"},
            headers=bearer(pair),
        )
        assert deletion.status_code == 204, deletion.text  # anonymises through the function
        assert await me(http, pair) == 401


async def login_with(http: httpx.AsyncClient, password: str) -> dict[str, str]:
    response = await http.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": password}
    )
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


async def test_every_table_is_granted_and_the_trail_only_for_appending(own_database: str) -> None:
    """A later migration that adds a table without granting it fails here."""
    connection = await asyncpg.connect(own_database)
    try:
        tables = [
            row["tablename"]
            for row in await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        ]
        privileges = {
            table: {
                privilege
                for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
                if await connection.fetchval(
                    "SELECT has_table_privilege($1, $2, $3)", APP_ROLE, table, privilege
                )
            }
            for table in tables
        }
    finally:
        await connection.close()
    assert privileges.pop("audit_events") == {"SELECT", "INSERT"}
    assert privileges.pop("alembic_version") == {"SELECT"}
    assert privileges and all(
        granted == {"SELECT", "INSERT", "UPDATE", "DELETE"} for granted in privileges.values()
    ), privileges
