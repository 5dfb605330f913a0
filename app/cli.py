"""`auth-service` (also `python -m app`): serve, migrate, manage users."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError as SettingsError

from app.cli_keys import keys_cli
from app.core.settings import ConfigError, Settings
from app.mail_cli import mail_cli
from app.users_cli import users_cli

cli = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
db_cli = typer.Typer(no_args_is_help=True, help="Database migrations (alembic).")
cli.add_typer(db_cli, name="db")
cli.add_typer(users_cli, name="users")  # its own module: app/users_cli.py
cli.add_typer(keys_cli, name="keys")
cli.add_typer(mail_cli, name="mail")  # its own module: app/mail_cli.py

ROOT = Path(__file__).resolve().parent.parent


def _settings() -> Settings:
    """The environment's settings, which check themselves (production's rules included),
    or exit 2 with one line naming the variable."""
    try:
        settings = Settings()
    except ConfigError as exc:
        typer.echo(f"auth-service: {exc}", err=True)
        raise typer.Exit(2) from None
    except SettingsError as exc:  # a value of the wrong kind (JWT_ALGORITHM=ES512): one line
        error = exc.errors()[0]
        variable = ".".join(str(part) for part in error["loc"]).upper() or "settings"
        typer.echo(f"auth-service: {variable}: {error['msg']}", err=True)
        raise typer.Exit(2) from None
    return settings


def _database_url(settings: Settings, *, owner: bool = False) -> str:
    """The server's URL; with `owner`, the schema owner's (MIGRATION_DATABASE_URL, falling
    back to DATABASE_URL), which every `db` command uses."""
    from app.db.urls import resolve_database_url, resolve_migration_url

    try:
        return resolve_migration_url(settings) if owner else resolve_database_url(settings)
    except Exception as exc:
        typer.echo(f"auth-service: {exc}", err=True)
        raise typer.Exit(2) from None


@cli.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    reload: bool = False,
) -> None:
    """Serve the API with uvicorn."""
    import uvicorn

    from app.core.logging import configure_logging
    from app.core.multiprocess_dir import prepare_multiprocess_dir, remove_dir
    from app.db.urls import resolve_jwt_secret

    settings = _settings()
    try:  # here, so a missing secret is one line, not a traceback from every worker
        resolve_jwt_secret(settings)
    except ConfigError as exc:
        typer.echo(f"auth-service: {exc}", err=True)
        raise typer.Exit(2) from None
    configure_logging(settings)  # the supervisor's own lines; each worker configures its own
    # Workers build their own settings from the environment: hand them the resolved URL.
    os.environ["DATABASE_URL"] = _database_url(settings)
    # Before any worker starts: with several, /metrics sums all workers' files.
    metrics_dir = prepare_multiprocess_dir(1 if reload else workers)
    try:
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=None if reload else workers,
            reload=reload,
            proxy_headers=True,  # trusted only from FORWARDED_ALLOW_IPS (default 127.0.0.1)
            log_level=settings.log_level.lower(),
            log_config=None,  # our structured pipeline (app.core.logging) formats uvicorn's lines
            access_log=False,  # the app writes one access line per request itself
        )
    finally:
        remove_dir(metrics_dir)


def _alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    # stdout as it is now (alembic's default is sys.stdout when alembic was imported).
    config = Config(str(ROOT / "alembic.ini"), stdout=sys.stdout)
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["database_url"] = url
    return config


@db_cli.command()
def upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    from alembic import command

    command.upgrade(_alembic_config(_database_url(_settings(), owner=True)), revision)


@db_cli.command(context_settings={"ignore_unknown_options": True})
def downgrade(revision: Annotated[str, typer.Argument()] = "-1") -> None:
    """Roll back one step (default) or to REVISION ("base" undoes everything)."""
    from alembic import command

    command.downgrade(_alembic_config(_database_url(_settings(), owner=True)), revision)


@db_cli.command()
def current() -> None:
    """Show the revision the database is at."""
    from alembic import command

    command.current(_alembic_config(_database_url(_settings(), owner=True)), verbose=True)


@db_cli.command()
def check(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Exit 0 only if the database is at REVISION (default: head) and its schema matches.

    Prints each difference, naming the table and column: against the schema the
    migrations build at REVISION and, at head, against the table metadata.
    """
    from alembic.util.exc import CommandError

    from app.db.schema_check import check_schema, display_url

    url = _database_url(_settings(), owner=True)
    try:
        report = check_schema(_alembic_config(url), url, revision)
    except (CommandError, ValueError) as exc:  # no such revision, or it names several
        typer.echo(f"auth-service: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(report.render(display_url(url)))
    if not report.ok:
        raise typer.Exit(1)


@db_cli.command()
def prune(
    older_than: Annotated[
        float, typer.Option("--older-than", min=1, help="Age in days past which rows go.")
    ] = 30,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 1000,
) -> None:
    """Delete what retention no longer needs, in short batches, safe while serving.

    Keep --older-than above LOGIN_KNOWN_CLIENT_DAYS (30): a client whose last successful
    login is pruned is no longer known to that account (docs/security.md). Audit events
    are a step of their own, past AUDIT_RETENTION_DAYS (365), whatever --older-than says;
    only the schema owner may delete them (MIGRATION_DATABASE_URL).
    """
    settings = _settings()
    url = _database_url(settings, owner=True)
    deleted = asyncio.run(_prune(settings, url, older_than, batch_size))
    for name, count in deleted.items():
        typer.echo(f"{name}: {count} deleted")


async def _prune(settings: Settings, url: str, days: float, batch_size: int) -> dict[str, int]:
    from pydantic import SecretStr

    from app.db.database import Database
    from app.services.retention import prune

    database = Database(settings.model_copy(update={"database_url": SecretStr(url)}))
    await database.open()
    uow = database.unit_of_work()
    try:
        return await prune(
            uow,
            older_than_days=days,
            audit_retention_days=settings.audit_retention_days,
            batch_size=batch_size,
        )
    finally:
        await uow.close()
        await database.close()


def main() -> None:
    cli()
