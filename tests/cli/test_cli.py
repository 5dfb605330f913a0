"""`auth-service` as an operator runs it: a real process against a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from app.core.settings import ConfigError
from app.main import create_app
from tests.conftest import TEST_PASSWORD, TEST_ROUNDS, make_settings


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "JWT_", "APP_"))}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        env={**base, "APP_ENV": "test", "BCRYPT_ROUNDS": str(TEST_ROUNDS), **(env or {})},
        check=False,
    )


async def test_users_create_reads_the_password_from_stdin(
    own_database: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": own_database}
    created = run_cli(
        "users",
        "create",
        "Ops@Example.com",
        "--password-stdin",
        cwd=tmp_path,
        env=env,
        stdin=TEST_PASSWORD + "\n",
    )
    assert created.returncode == 0, created.stderr
    assert "<ops@example.com>" in created.stdout
    assert TEST_PASSWORD not in created.stdout + created.stderr

    again = run_cli(
        "users",
        "create",
        "ops@example.com",
        "--password-stdin",
        cwd=tmp_path,
        env=env,
        stdin=TEST_PASSWORD + "\n",
    )
    assert again.returncode == 1 and "already registered" in again.stderr

    weak = run_cli(
        "users",
        "create",
        "weak@example.com",
        "--password-stdin",
        cwd=tmp_path,
        env=env,
        stdin="short\n",
    )
    assert weak.returncode == 1 and "at least 8" in weak.stderr and "short" not in weak.stderr

    bad_email = run_cli(
        "users",
        "create",
        "not-an-email",
        "--password-stdin",
        cwd=tmp_path,
        env=env,
        stdin=TEST_PASSWORD + "\n",
    )
    assert bad_email.returncode == 1 and "email" in bad_email.stderr.lower()

    connection = await asyncpg.connect(own_database)
    try:
        assert await connection.fetchval("SELECT count(*) FROM users") == 1
    finally:
        await connection.close()


def test_db_commands_walk_the_revisions(own_database: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": own_database}
    assert "(head)" in run_cli("db", "current", cwd=tmp_path, env=env).stdout
    assert run_cli("db", "downgrade", "base", cwd=tmp_path, env=env).returncode == 0
    assert "(head)" not in run_cli("db", "current", cwd=tmp_path, env=env).stdout
    assert run_cli("db", "upgrade", cwd=tmp_path, env=env).returncode == 0
    assert "(head)" in run_cli("db", "current", cwd=tmp_path, env=env).stdout


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DATABASE_URL": "postgresql://db/x"}, "JWT_SECRET"),
        ({"DATABASE_URL": "postgresql://db/x", "JWT_SECRET": "change-me"}, "JWT_SECRET"),
        ({"JWT_SECRET": "k" * 40}, "DATABASE_URL"),
    ],
)
def test_production_refuses_to_start_without_real_secrets(
    tmp_path: Path, env: dict[str, str], variable: str
) -> None:
    result = run_cli("serve", cwd=tmp_path, env={"APP_ENV": "production", **env})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0]


def test_create_app_checks_production_settings() -> None:
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        create_app(
            make_settings(app_env="production", jwt_secret="change-me-please-0123456789abcdef")
        )
    create_app(make_settings(app_env="production", jwt_secret="k" * 40))  # a real one passes
