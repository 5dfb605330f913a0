"""Which database a command talks to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.core.settings import Settings

DEV_DATA_DIR = Path(".data/postgres")


def resolve_database_url(settings: Settings) -> str:
    """DATABASE_URL; in development with none set, the local cluster under .data/."""
    if settings.database_url:
        return settings.database_url
    if settings.app_env == "development":
        from app.db.local import ensure_dev_database

        _check_dev_data_dir(DEV_DATA_DIR)
        return ensure_dev_database(DEV_DATA_DIR)
    raise RuntimeError("DATABASE_URL is not set")


def _check_dev_data_dir(data_dir: Path) -> None:
    """One clear line where the local cluster cannot live (a read-only app directory, as in
    the container image) instead of a traceback from deep inside its start-up."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RuntimeError(
            f"DATABASE_URL is not set, and the local development database cannot be created "
            f"at {data_dir.resolve()} ({exc.strerror}): set DATABASE_URL to a PostgreSQL "
            "server (inside a container the local database cannot work)"
        ) from None


def sqlalchemy_async_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def migration_database_url(config: Any) -> str:
    """The URL alembic runs on: one set by our CLI or tests, else the environment's."""
    url = config.attributes.get("database_url") or resolve_database_url(Settings())
    return sqlalchemy_async_url(url)
