"""`auth-service users ...` for administration, in process (CliRunner) against a database
of the test's own: the commands, their output, their exit codes and their audit events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest
from typer.testing import Result

from app.db.uow import UnitOfWork
from tests.support.admin import audit_rows
from tests.support.cli import auth_service
from tests.support.settings import TEST_PASSWORD

CLI_EVENT = {"actor_id": None, "address": None, "details": {"via": "cli"}}


@pytest.fixture
async def db(own_database: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(own_database)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
def env(own_database: str) -> dict[str, str]:
    return {"DATABASE_URL": own_database}


async def users(env: dict[str, str], *args: str, stdin: str = "") -> Result:
    return await auth_service("users", *args, env=env, stdin=stdin)


async def create(env: dict[str, str], email: str, *flags: str) -> Result:
    result = await users(
        env, "create", email, "--password-stdin", *flags, stdin=TEST_PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    return result


async def flags(db: asyncpg.Connection, email: str) -> tuple[bool, bool]:
    row = await db.fetchrow("SELECT is_active, is_admin FROM users WHERE email = $1", email)
    assert row is not None
    return row["is_active"], row["is_admin"]


async def events(db: asyncpg.Connection, email: str) -> list[dict[str, object]]:
    user_id = await db.fetchval("SELECT id FROM users WHERE email = $1", email)
    return await audit_rows(db, user_id)


async def test_create_admin_grants_it_with_its_event(
    env: dict[str, str], db: asyncpg.Connection
) -> None:
    created = await create(env, "Root@Example.com", "--admin")
    assert "created admin" in created.stdout and "<root@example.com>" in created.stdout
    assert await flags(db, "root@example.com") == (True, True)
    assert await events(db, "root@example.com") == [{"type": "admin_granted", **CLI_EVENT}]
    await create(env, "plain@example.com")
    assert await flags(db, "plain@example.com") == (True, False)
    assert await events(db, "plain@example.com") == []


async def test_set_admin_and_revoke(env: dict[str, str], db: asyncpg.Connection) -> None:
    await create(env, "ops@example.com")
    granted = await users(env, "set-admin", "OPS@example.com")
    assert granted.exit_code == 0 and granted.stdout.strip() == "ops@example.com is an admin"
    again = await users(env, "set-admin", "ops@example.com")
    assert "(unchanged)" in again.stdout
    revoked = await users(env, "set-admin", "ops@example.com", "--revoke")
    assert revoked.stdout.strip() == "ops@example.com is not an admin"
    assert await flags(db, "ops@example.com") == (True, False)
    kinds = [event["type"] for event in await events(db, "ops@example.com")]
    assert kinds == ["admin_granted", "admin_revoked"]


async def test_deactivate_asks_nothing_without_a_terminal_and_ends_sessions(
    env: dict[str, str], db: asyncpg.Connection
) -> None:
    await create(env, "ada@example.com")
    user_id = await db.fetchval("SELECT id FROM users WHERE email = 'ada@example.com'")
    # A login's session, opened as a login opens it, without a server to log in to.
    await UnitOfWork.borrowing(db).sessions.open(
        user_id, max_age=timedelta(days=1), user_agent=None, address=None
    )
    deactivated = await users(env, "deactivate", "ada@example.com")
    assert (
        deactivated.exit_code == 0 and deactivated.stdout.strip() == "deactivated ada@example.com"
    )
    assert await flags(db, "ada@example.com") == (False, False)
    live = "SELECT count(*) FROM sessions WHERE user_id = $1 AND ended_at IS NULL"
    assert await db.fetchval(live, user_id) == 0
    assert "already inactive" in (await users(env, "deactivate", "ada@example.com")).stdout
    assert (
        await users(env, "activate", "ada@example.com")
    ).stdout.strip() == "activated ada@example.com"
    assert await events(db, "ada@example.com") == [
        {"type": kind, **CLI_EVENT} for kind in ("user_deactivated", "user_activated")
    ]


@pytest.mark.parametrize(
    "command", [("set-admin",), ("set-admin", "--revoke"), ("deactivate",), ("activate",)]
)
async def test_an_unknown_email_is_one_line_and_a_failure(
    env: dict[str, str], command: tuple[str, ...]
) -> None:
    result = await users(env, command[0], "nobody@example.com", *command[1:])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == ["auth-service: User not found"]


async def test_list_is_a_table_filtered_by_prefix(env: dict[str, str]) -> None:
    await create(env, "root@example.com", "--admin")
    await create(env, "ada_1@example.com")
    await create(env, "adax1@example.com")
    everyone = (await users(env, "list")).stdout.splitlines()
    assert everyone[0].split() == ["id", "email", "active", "admin", "verified", "created"]
    assert len(everyone) == 4
    root = next(line for line in everyone if "root@example.com" in line).split()
    assert root[2:5] == ["yes", "yes", "no"]
    filtered = (await users(env, "list", "--email", "ADA_")).stdout.splitlines()
    assert len(filtered) == 2 and "ada_1@example.com" in filtered[1]  # `_` is no wildcard
