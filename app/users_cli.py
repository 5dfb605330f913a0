"""`auth-service users ...`: accounts from the command line, the only place admin is
granted. Changes go through the same AdminService as the HTTP routes, so they write the
same audit events, with no actor id and `{"via": "cli"}` as their details."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, TypeVar
from uuid import UUID

import typer

from app.core.models import Actor, User
from app.core.settings import Settings

if TYPE_CHECKING:  # imported when a command runs: `auth-service --help` stays quick
    from app.core.cursors import Cursor
    from app.db.uow import UnitOfWork
    from app.services.admin import AdminService

users_cli = typer.Typer(no_args_is_help=True, help="Manage users.")

T = TypeVar("T")
Work = Callable[["UnitOfWork", Settings], Awaitable[T]]
Change = Callable[["AdminService", "UnitOfWork", UUID], Awaitable[User]]
TABLE_COLUMNS = ("id", "email", "active", "admin", "verified", "created")


@users_cli.command("create")
def create_user(
    email: str,
    full_name: Annotated[str | None, typer.Option()] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an admin.")] = False,
) -> None:
    """Create a user; the password comes from a prompt or from standard input."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def create(uow: UnitOfWork, settings: Settings) -> User:
        from app.core.passwords import PasswordHasher
        from app.services.admin import AdminService
        from app.services.users import UserService

        users = UserService(hasher=PasswordHasher(rounds=settings.bcrypt_rounds))
        # One transaction: the account exists with its grant and its event, or not at all.
        async with uow.transaction():
            user = await users.register(
                uow, email=_checked_email(email), password=password, full_name=full_name
            )
            if admin:
                user = await AdminService().set_admin(
                    uow, user_id=user.id, admin=True, actor=Actor.cli()
                )
        return user

    user = _run(create)
    typer.echo(f"created {'admin' if user.is_admin else 'user'} {user.id} <{user.email}>")


@users_cli.command("set-admin")
def set_admin(
    email: str,
    revoke: Annotated[bool, typer.Option("--revoke", help="Take admin away instead.")] = False,
) -> None:
    """Grant admin to a user (or revoke it); effective on their next request."""

    async def change(admin: AdminService, uow: UnitOfWork, user_id: UUID) -> User:
        return await admin.set_admin(uow, user_id=user_id, admin=not revoke, actor=Actor.cli())

    user, changed = _run(_change_by_email(email, change))
    state = "an admin" if user.is_admin else "not an admin"
    typer.echo(f"{user.email} is {state}{'' if changed else ' (unchanged)'}")


@users_cli.command("deactivate")
def deactivate(
    email: str,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Deactivate a user: every session of theirs ends at once and their login is refused.
    Asks first on a terminal; never when standard input is not one."""
    if not yes and sys.stdin.isatty():
        typer.confirm(f"Deactivate {email} and end all their sessions?", abort=True)

    async def change(admin: AdminService, uow: UnitOfWork, user_id: UUID) -> User:
        return await admin.deactivate(uow, user_id=user_id, actor=Actor.cli())

    user, changed = _run(_change_by_email(email, change))
    typer.echo(f"deactivated {user.email}" if changed else f"{user.email} was already inactive")


@users_cli.command("activate")
def activate(email: str) -> None:
    """Let a deactivated user log in again (no ended session comes back)."""

    async def change(admin: AdminService, uow: UnitOfWork, user_id: UUID) -> User:
        return await admin.activate(uow, user_id=user_id, actor=Actor.cli())

    user, changed = _run(_change_by_email(email, change))
    typer.echo(f"activated {user.email}" if changed else f"{user.email} was already active")


@users_cli.command("delete")
def delete_user(email: str) -> None:
    """Delete a user as DELETE /api/v1/users/me does (audit actor: none, via "cli"). Asks
    nothing: run it only for the account you mean."""

    async def delete(uow: UnitOfWork, settings: Settings) -> User:
        from app.services.account_deletion import AccountDeletionService

        return await AccountDeletionService().delete_by_email(uow, email=email)

    user = _run(delete)
    typer.echo(f"deleted user {user.id}")


@users_cli.command("list")
def list_users(
    email: Annotated[
        str | None, typer.Option("--email", help="Only emails starting with this.")
    ] = None,
) -> None:
    """Every user (or those whose email starts with PREFIX), oldest first, as a table."""
    from app.services.admin import MAX_PAGE_SIZE, AdminService

    async def every_user(uow: UnitOfWork, settings: Settings) -> list[User]:
        service, users = AdminService(), list[User]()
        cursor: Cursor | None = None
        while True:
            page = await service.list_users(
                uow, limit=MAX_PAGE_SIZE, after=cursor, email_prefix=email
            )
            users += page.users
            if (cursor := page.next) is None:
                return users

    for line in user_table(_run(every_user)):
        typer.echo(line)


def user_table(users: list[User]) -> Iterator[str]:
    """Aligned columns, one user a line, under a header."""
    rows = [TABLE_COLUMNS] + [
        (
            str(user.id),
            user.email,
            _yes_no(user.is_active),
            _yes_no(user.is_admin),
            _yes_no(user.email_verified),
            user.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
        for user in users
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_COLUMNS))]
    for row in rows:
        yield "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _change_by_email(email: str, change: Change) -> Work[tuple[User, bool]]:
    """Find the user by email, then `change` them: the user after it, and whether it did."""

    async def run(uow: UnitOfWork, settings: Settings) -> tuple[User, bool]:
        from app.services.admin import AdminService

        admin = AdminService()
        before = await admin.find_user(uow, email=email)
        after = await change(admin, uow, before.id)
        return after, after != before

    return run


def _checked_email(email: str) -> str:
    """The email as registration's API model would take it, or ValidationError."""
    from pydantic import EmailStr, TypeAdapter
    from pydantic import ValidationError as PydanticError

    from app.core.errors import ValidationError

    try:
        return TypeAdapter(EmailStr).validate_python(email.strip())
    except PydanticError:
        raise ValidationError(
            details=[{"field": "email", "message": "Not a valid email"}]
        ) from None


def _run(work: Work[T]) -> T:
    """`work` on a unit of work of the configured database. An AppError (an unknown email,
    a taken one, a weak password) is one line on stderr and exit status 1."""
    from app.cli import _database_url, _settings
    from app.core.errors import AppError, ValidationError

    settings = _settings()
    url = _database_url(settings)
    try:
        return asyncio.run(_on_database(settings, url, work))
    except AppError as exc:
        details = exc.details if isinstance(exc, ValidationError) else []
        reason = "; ".join(d["message"] for d in details) or exc.message
        typer.echo(f"auth-service: {reason}", err=True)
        raise typer.Exit(1) from None


async def _on_database(settings: Settings, url: str, work: Work[T]) -> T:
    async with _unit_of_work(settings, url) as uow:
        return await work(uow, settings)


@asynccontextmanager
async def _unit_of_work(settings: Settings, url: str) -> AsyncIterator[UnitOfWork]:
    from pydantic import SecretStr

    from app.db.database import Database

    database = Database(
        settings.model_copy(update={"database_url": SecretStr(url), "db_pool_min_size": 1})
    )
    await database.open()
    uow = database.unit_of_work()
    try:
        yield uow
    finally:
        await uow.close()
        await database.close()
