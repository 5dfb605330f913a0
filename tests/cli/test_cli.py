"""`auth-service` as an operator runs it, against a real database: in process through
CliRunner, and as a real process where what matters is the process (exit status, stderr)."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from typer.testing import Result

from app.core.settings import ConfigError
from app.main import create_app
from tests.support.cli import auth_service, invoke, run_cli, serve_refusal
from tests.support.settings import TEST_PASSWORD, make_settings


async def test_users_create_reads_the_password_from_stdin(own_database: str) -> None:
    env = {"DATABASE_URL": own_database}

    async def create(email: str, password: str) -> Result:
        return await auth_service(
            "users", "create", email, "--password-stdin", env=env, stdin=password + "\n"
        )

    created = await create("Ops@Example.com", TEST_PASSWORD)
    assert created.exit_code == 0, created.output
    assert "<ops@example.com>" in created.stdout and TEST_PASSWORD not in created.output

    again = await create("ops@example.com", TEST_PASSWORD)
    assert again.exit_code == 1 and "already registered" in again.stderr

    weak = await create("weak@example.com", "short")
    assert weak.exit_code == 1 and "at least 8" in weak.stderr and "short" not in weak.stderr

    bad_email = await create("not-an-email", TEST_PASSWORD)
    assert bad_email.exit_code == 1 and "email" in bad_email.stderr.lower()

    connection = await asyncpg.connect(own_database)
    try:
        assert await connection.fetchval("SELECT count(*) FROM users") == 1
    finally:
        await connection.close()


async def test_db_commands_walk_the_revisions(own_database: str) -> None:
    env = {"DATABASE_URL": own_database}
    assert "(head)" in (await auth_service("db", "current", env=env)).stdout
    assert (await auth_service("db", "downgrade", "base", env=env)).exit_code == 0
    assert "(head)" not in (await auth_service("db", "current", env=env)).stdout
    assert (await auth_service("db", "upgrade", env=env)).exit_code == 0
    assert "(head)" in (await auth_service("db", "current", env=env)).stdout


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DATABASE_URL": "postgresql://db/x"}, "JWT_SECRET"),
        ({"DATABASE_URL": "postgresql://db/x", "JWT_SECRET": "change-me"}, "JWT_SECRET"),
        ({"JWT_SECRET": "k" * 40}, "DATABASE_URL"),
    ],
)
def test_production_refuses_to_start_without_real_secrets(
    env: dict[str, str], variable: str
) -> None:
    assert variable in serve_refusal(env={"APP_ENV": "production", **env})


@pytest.mark.process
def test_the_entry_point_refuses_with_exit_2_and_one_line(tmp_path: Path) -> None:
    """`python -m app serve` itself: the status and stderr an operator's shell sees."""
    env = {"APP_ENV": "production", "DATABASE_URL": "postgresql://db/x"}
    result = run_cli("serve", cwd=tmp_path, env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "JWT_SECRET" in lines[0] and "Traceback" not in result.stderr


def test_create_app_refuses_production_without_a_secret() -> None:
    settings = make_settings(app_env="production", jwt_secret=None)  # fine for migrations
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        create_app(settings)
    create_app(make_settings(app_env="production", jwt_secret="k" * 40))  # a real one passes


def test_commands_that_sign_nothing_still_refuse_a_placeholder_secret() -> None:
    env = {"APP_ENV": "production", "DATABASE_URL": "postgresql://auth@db/auth"}
    result = invoke("db", "current", env={**env, "JWT_SECRET": "change-me"})
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "JWT_SECRET" in lines[0], result.stderr


async def test_users_delete_removes_the_user_with_no_actor(own_database: str) -> None:
    env = {"DATABASE_URL": own_database}
    created = await auth_service(
        "users", "create", "ops@example.com", "--password-stdin", env=env, stdin=TEST_PASSWORD
    )
    assert created.exit_code == 0, created.output

    deleted = await auth_service("users", "delete", "Ops@Example.com", env=env)
    assert deleted.exit_code == 0, deleted.output
    again = await auth_service("users", "delete", "ops@example.com", env=env)
    assert again.exit_code == 1
    assert again.stderr.strip().splitlines() == ["auth-service: User not found"]

    connection = await asyncpg.connect(own_database)
    try:
        assert await connection.fetchval("SELECT count(*) FROM users") == 0
        event = await connection.fetchrow(
            "SELECT actor_id, address, details::text AS details FROM audit_events"
            " WHERE type = 'user_deleted'"
        )
        assert event is not None
        assert (event["actor_id"], event["address"], event["details"]) == (
            None,
            None,
            '{"via": "cli"}',
        )
    finally:
        await connection.close()
