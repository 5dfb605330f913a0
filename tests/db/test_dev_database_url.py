"""Development without DATABASE_URL or JWT_SECRET where .data cannot be made (as in the image)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli


def test_a_data_dir_that_cannot_be_made_is_one_line_naming_database_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file where the local cluster's directory would go: mkdir fails even as root, as it
    # does for the image's user in its read-only /srv/auth-service.
    (tmp_path / ".data").write_text("")
    monkeypatch.chdir(tmp_path)
    env = {
        "APP_ENV": "development",
        "DATABASE_URL": None,
        "JWT_SECRET": "dev-url-test-secret-0123456789-abcdefghij",
    }

    result = CliRunner().invoke(cli, ["db", "current"], env=env)

    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("auth-service: DATABASE_URL is not set")
    assert str(tmp_path / ".data" / "postgres") in line
    assert not (tmp_path / ".data").is_dir()


def test_a_secret_that_cannot_be_kept_is_one_line_naming_jwt_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".data").write_text("")  # the development secret's directory cannot be made
    monkeypatch.chdir(tmp_path)
    env = {"APP_ENV": "development", "DATABASE_URL": None, "JWT_SECRET": None}

    result = CliRunner().invoke(cli, ["serve"], env=env)

    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("auth-service: JWT_SECRET is not set")
    assert str(tmp_path / ".data" / "jwt-secret") in line
