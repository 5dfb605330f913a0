"""The admin service on the real database, inside the test's savepoint: paging, the email
prefix and its index, the changes, their events, and what a no-op leaves alone."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg
import pytest

from app.core.cursors import Cursor
from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.core.models import Actor, EndReason, User
from app.db.uow import UnitOfWork
from app.repositories.users import LIST_PAGE, prefix_successor
from app.services.admin import AdminService
from tests.support.admin import audit_rows

HASH = "$2b$04$" + "x" * 53  # a row's hash; no login happens in these tests


@pytest.fixture
def admin() -> AdminService:
    return AdminService()


async def create(uow: UnitOfWork, *emails: str) -> list[User]:
    return [
        await uow.users.create(email=email, password_hash=HASH, full_name=None) for email in emails
    ]


async def open_session(uow: UnitOfWork, user: User) -> UUID:
    return await uow.sessions.open(
        user.id, max_age=timedelta(days=1), user_agent="laptop/1.0", address="192.0.2.1"
    )


async def live_sessions(conn: asyncpg.Connection, user: User) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM sessions WHERE user_id = $1 AND ended_at IS NULL", user.id
    )
    return count


async def test_pages_follow_created_at_then_id(uow: UnitOfWork, admin: AdminService) -> None:
    # One transaction: every row gets the same created_at, so only the id orders them.
    async with uow.transaction():
        created = await create(uow, *(f"p{i}@example.com" for i in range(8)))
    expected = sorted(created, key=lambda user: (user.created_at, user.id))
    seen, cursor = [], None
    while True:
        page = await admin.list_users(uow, limit=3, after=cursor)
        assert len(page.users) <= 3
        seen += page.users
        if (cursor := page.next) is None:
            break
    assert [user.id for user in seen] == [user.id for user in expected]


async def test_the_last_full_page_has_no_cursor(uow: UnitOfWork, admin: AdminService) -> None:
    await create(uow, "a@example.com", "b@example.com")
    page = await admin.list_users(uow, limit=2)
    assert len(page.users) == 2 and page.next is None


async def test_email_prefix_is_case_insensitive_and_literal(
    uow: UnitOfWork, admin: AdminService
) -> None:
    await create(uow, "ab%c@example.com", "abxc@example.com", "ab_d@example.com", "x@ab.com")

    async def emails(prefix: str) -> list[str]:
        return sorted(
            user.email for user in (await admin.list_users(uow, email_prefix=prefix)).users
        )

    assert await emails(" AB%") == ["ab%c@example.com"]
    assert await emails("ab_") == ["ab_d@example.com"]
    assert len((await admin.list_users(uow, email_prefix="ab")).users) == 3
    assert (await admin.list_users(uow, email_prefix="abz")).users == []


def test_prefix_successor_is_the_least_string_above_the_prefix() -> None:
    assert prefix_successor("ab") == "ac"
    assert prefix_successor("a\ud7ff") == "a\ue000"  # over the surrogates
    assert prefix_successor("a\U0010ffff") == "b"
    assert prefix_successor("\U0010ffff") is None


async def test_prefix_filter_uses_the_prefix_index(
    uow: UnitOfWork, conn: asyncpg.Connection
) -> None:
    async with uow.transaction():
        await create(uow, *(f"user{i:04}@example.com" for i in range(1500)))
    await conn.execute("ANALYZE users")  # rolled back with the savepoint
    some_cursor = Cursor.decode("A" * 32)
    cases = [(False, ()), (True, (some_cursor.created_at, some_cursor.id))]
    # A generic plan too: asyncpg's statement cache makes one after a few executions.
    for (after, args), mode in itertools.product(cases, ("auto", "force_generic_plan")):
        await conn.execute(f"SET LOCAL plan_cache_mode = {mode}")
        # The statement the repository runs, with the arguments it passes for "user012".
        statement = LIST_PAGE[after, True]
        plan = await conn.fetch(f"EXPLAIN {statement}", 51, *args, "user012", "user013")
        text = "\n".join(row[0] for row in plan)
        assert "users_email_prefix_idx" in text, (mode, text)


def test_a_cursor_round_trips_and_a_bad_one_is_a_validation_error() -> None:
    cursor = Cursor(datetime(2026, 12, 2, 13, 0, 0, 123456, tzinfo=UTC), uuid4())
    assert Cursor.decode(cursor.encode()) == cursor
    for text in ("nope", "x" * 32, "é" * 32, "!" * 32, cursor.encode() + "A", ""):
        with pytest.raises(ValidationError) as raised:
            Cursor.decode(text, field="query.cursor")
        assert raised.value.details == [{"field": "query.cursor", "message": "Not a valid cursor"}]


async def test_deactivation_ends_sessions_and_records_the_actor(
    uow: UnitOfWork, conn: asyncpg.Connection, admin: AdminService
) -> None:
    root, user = await create(uow, "root@example.com", "ada@example.com")
    await open_session(uow, user)
    await open_session(uow, user)

    deactivated = await admin.deactivate(
        uow, user_id=user.id, actor=Actor.admin(root, address="198.51.100.7")
    )

    assert not deactivated.is_active
    assert await live_sessions(conn, user) == 0
    reasons = await conn.fetch("SELECT end_reason FROM sessions WHERE user_id = $1", user.id)
    assert {row["end_reason"] for row in reasons} == {EndReason.DEACTIVATED}
    assert await audit_rows(conn, user.id) == [
        {"type": "user_deactivated", "actor_id": root.id, "address": "198.51.100.7", "details": {}}
    ]


async def test_repeating_a_change_records_nothing(
    uow: UnitOfWork, conn: asyncpg.Connection, admin: AdminService
) -> None:
    (user,) = await create(uow, "ada@example.com")
    cli = Actor.cli()
    await admin.deactivate(uow, user_id=user.id, actor=cli)
    again = await admin.deactivate(uow, user_id=user.id, actor=cli)
    await admin.activate(uow, user_id=user.id, actor=cli)
    await admin.activate(uow, user_id=user.id, actor=cli)
    await admin.set_admin(uow, user_id=user.id, admin=True, actor=cli)
    await admin.set_admin(uow, user_id=user.id, admin=True, actor=cli)
    revoked = await admin.set_admin(uow, user_id=user.id, admin=False, actor=cli)

    assert not again.is_active and not revoked.is_admin
    cli_event = {"actor_id": None, "address": None, "details": {"via": "cli"}}
    assert await audit_rows(conn, user.id) == [
        {"type": kind, **cli_event}
        for kind in ("user_deactivated", "user_activated", "admin_granted", "admin_revoked")
    ]


async def test_an_admin_cannot_deactivate_themselves(
    uow: UnitOfWork, conn: asyncpg.Connection, admin: AdminService
) -> None:
    (root,) = await create(uow, "root@example.com")
    with pytest.raises(ConflictError, match="cannot deactivate their own account"):
        await admin.deactivate(uow, user_id=root.id, actor=Actor.admin(root, address="::1"))
    assert (await admin.get_user(uow, user_id=root.id)).is_active
    assert await audit_rows(conn, root.id) == []


async def test_an_unknown_user_is_not_found(uow: UnitOfWork, admin: AdminService) -> None:
    nobody = uuid4()
    with pytest.raises(NotFoundError):
        await admin.get_user(uow, user_id=nobody)
    for change in (admin.deactivate, admin.activate):
        with pytest.raises(NotFoundError):
            await change(uow, user_id=nobody, actor=Actor.cli())
    with pytest.raises(NotFoundError):
        await admin.set_admin(uow, user_id=nobody, admin=True, actor=Actor.cli())
    with pytest.raises(NotFoundError):
        await admin.find_user(uow, email="not an email")


async def test_find_user_normalises_the_email(uow: UnitOfWork, admin: AdminService) -> None:
    (user,) = await create(uow, "ada@bücher.de")
    assert (await admin.find_user(uow, email=" ADA@xn--bcher-kva.de")).id == user.id
