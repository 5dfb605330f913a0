"""Which database a command talks to."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from app.core.dev_secret import load_or_create_secret
from app.core.keys import HMAC_ALGORITHMS
from app.core.settings import ConfigError, Settings

DEV_SECRET_FILE = "jwt-secret"  # noqa: S105 (a file name)


def dev_data_dir() -> Path:
    """Where development keeps its local PostgreSQL cluster. The one place that decides:
    the development JWT secret lives beside it (dev_secret_path)."""
    return Path(".data/postgres")


def dev_secret_path() -> Path:
    return dev_data_dir().parent / DEV_SECRET_FILE


def resolve_database_url(settings: Settings) -> str:
    """DATABASE_URL; in development with none set, the local cluster under .data/."""
    if settings.database_url is not None and settings.database_url.get_secret_value():
        return settings.database_url.get_secret_value()
    if settings.app_env == "development":
        from app.db.local import ensure_dev_database

        _check_dev_data_dir(dev_data_dir())
        return ensure_dev_database(dev_data_dir())
    raise RuntimeError("DATABASE_URL is not set")


def resolve_migration_url(settings: Settings) -> str:
    """Where `db` commands run: MIGRATION_DATABASE_URL (the schema owner), else as the
    server does (DATABASE_URL, or the local development cluster)."""
    url = settings.migration_database_url
    if url is not None and url.get_secret_value():
        return url.get_secret_value()
    return resolve_database_url(settings)


def resolve_jwt_secret(settings: Settings) -> Settings:
    """`settings` with a JWT secret: its own; in development with none set, the one kept
    beside the local data (made on first use); otherwise ConfigError."""
    if settings.jwt_secret is not None or settings.jwt_algorithm not in HMAC_ALGORITHMS:
        return settings  # its own, or a key pair signs and no secret is used
    if settings.app_env != "development":
        raise ConfigError("JWT_SECRET must be set")
    try:
        secret = load_or_create_secret(dev_secret_path())
    except OSError as exc:  # as in the image, whose /srv/auth-service is not writable
        raise ConfigError(
            f"JWT_SECRET is not set, and the development secret cannot be kept at "
            f"{dev_secret_path().resolve()} ({exc.strerror}): set JWT_SECRET"
        ) from None
    return settings.model_copy(update={"jwt_secret": SecretStr(secret)})


def _check_dev_data_dir(data_dir: Path) -> None:
    """One clear line where the local cluster cannot live (a read-only app directory, as in
    the container image) instead of a traceback from deep inside its start-up. Creates
    nothing: where the cluster really goes is the local module's choice (dev_cluster_dir)."""
    nearest = next(path for path in (data_dir, *data_dir.parents) if path.exists())
    if not nearest.is_dir():
        reason = errno.ENOTDIR
    elif not os.access(nearest, os.W_OK | os.X_OK):
        reason = errno.EACCES
    else:
        return
    raise RuntimeError(
        f"DATABASE_URL is not set, and the local development database cannot be created "
        f"at {data_dir.resolve()} ({os.strerror(reason)}): set DATABASE_URL to a PostgreSQL "
        "server (inside a container the local database cannot work)"
    )


def sqlalchemy_async_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def migration_database_url(config: Any) -> str:
    """The URL alembic runs on: one set by our CLI or tests, else the environment's."""
    url = config.attributes.get("database_url") or resolve_migration_url(Settings())
    return sqlalchemy_async_url(url)
