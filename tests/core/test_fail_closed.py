"""Fail closed: production unless told otherwise, no signing secret in the code, and
secrets that never show in a repr or a log line."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from asgi_lifespan import LifespanManager

from app.core.settings import ConfigError, Settings
from app.db.urls import dev_secret_path, resolve_jwt_secret
from app.main import create_app
from tests.support.cli import invoke
from tests.support.database import ROOT
from tests.support.http import client_for
from tests.support.settings import make_settings

SECRET = "jwt-secret-that-must-never-be-logged-0123456789"
DB_PASSWORD = "db-password-never-logged"
DSN_KEY = "sentrykeynever0logged"


def test_nothing_set_means_production(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("APP_ENV", "DATABASE_URL", "JWT_SECRET"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(ConfigError, match=r"DATABASE_URL .* in production"):
        Settings(_env_file=None)
    monkeypatch.setenv("DATABASE_URL", "postgresql://auth@db/auth")
    assert Settings(_env_file=None).app_env == "production"


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"database_url": None}, "DATABASE_URL"),
        ({"database_url": "postgresql://change-me@db/auth"}, "DATABASE_URL"),
        ({"jwt_secret": "change-me-please-0123456789abcdef"}, "JWT_SECRET"),
        ({"jwt_secret": "k" * 31}, "JWT_SECRET"),
    ],
)
def test_production_settings_refuse_themselves(values: dict[str, object], variable: str) -> None:
    """No check to remember to call: the settings are refused as they are built."""
    with pytest.raises(ConfigError) as refused:
        make_settings(app_env="production", **values)
    message = str(refused.value)
    assert message.startswith(variable) and "\n" not in message
    make_settings(app_env="test", **values)  # production's rules only


@pytest.mark.process
def test_serve_with_nothing_set_refuses_to_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APP_", "DATABASE_", "JWT_"))}
    result = subprocess.run(
        [sys.executable, "-m", "app", "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "DATABASE_URL" in lines[0] and "production" in lines[0]


def test_commands_that_sign_nothing_need_no_secret_in_production(own_database: str) -> None:
    """Migrations run where the signing secret is not (CI, a migration job)."""
    result = invoke("db", "current", env={"APP_ENV": "production", "DATABASE_URL": own_database})
    assert result.exit_code == 0, result.stderr
    assert "(head)" in result.stdout


def test_test_env_without_a_secret_refuses_too() -> None:
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        create_app(make_settings(jwt_secret=None))


def test_no_signing_secret_is_left_in_the_source() -> None:
    sources = [*(ROOT / "app").rglob("*.py")]
    assert not [p for p in sources if "dev-only-secret" in p.read_text()]


def test_development_makes_one_secret_beside_the_local_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = make_settings(app_env="development", jwt_secret=None)
    first = resolve_jwt_secret(settings)
    path = tmp_path / dev_secret_path()
    assert path.parent == (tmp_path / ".data")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.jwt_secret is not None and len(first.jwt_secret_value) >= 32
    again = resolve_jwt_secret(settings)
    assert again.jwt_secret_value == first.jwt_secret_value  # made once, then kept
    create_app(settings)  # the app starts on it
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert resolve_jwt_secret(settings).jwt_secret_value != first.jwt_secret_value  # random


def secret_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "jwt_secret": SECRET,
        "database_replica_urls": f"postgresql://r:{DB_PASSWORD}@127.0.0.1:1/x",
        "sentry_dsn": f"https://{DSN_KEY}@sentry.invalid/1",
    }
    return make_settings(**{**values, **overrides})


def test_secrets_never_show_in_repr_str_or_dumps() -> None:
    settings = secret_settings(database_url=f"postgresql://u:{DB_PASSWORD}@127.0.0.1:1/x")
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        for secret in (SECRET, DB_PASSWORD, DSN_KEY):
            assert secret not in shown


async def test_secrets_never_reach_the_log(
    own_database: str, capfd: pytest.CaptureFixture[str]
) -> None:
    url = own_database.replace("postgresql://postgres@", f"postgresql://postgres:{DB_PASSWORD}@")
    assert DB_PASSWORD in url
    app = create_app(
        secret_settings(
            database_url=url, database_replica_urls="", log_level="DEBUG", sentry_dsn=None
        )
    )
    async with LifespanManager(app), client_for(app) as http:
        await http.get("/ready")
        await http.post("/api/v1/auth/login", json={"email": "a@example.com", "password": "x"})
        await http.get("/metrics")
    output = "".join(capfd.readouterr())
    assert "request" in output  # the log was captured at all
    assert SECRET not in output and DB_PASSWORD not in output
