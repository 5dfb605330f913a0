"""UserRepository against PostgreSQL: queries, constraints, and error translation."""

from __future__ import annotations

import asyncio
import re
import uuid

import asyncpg
import pytest

from app.core.errors import ConflictError, DatabaseError, DatabaseUnavailableError
from app.db.uow import UnitOfWork
from app.repositories.users import EMAIL_TAKEN


async def create(uow: UnitOfWork, email: str = "grace@example.com") -> uuid.UUID:
    user = await uow.users.create(email=email, password_hash="hash", full_name="Grace Hopper")
    return user.id


async def test_create_returns_the_stored_user(uow: UnitOfWork) -> None:
    user = await uow.users.create(email="Grace@Example.com", password_hash="h", full_name="G")
    assert user.email == "Grace@Example.com"  # stored as given
    assert user.is_active and user.last_login is None
    assert user.created_at == user.updated_at


async def test_get_by_id_finds_and_misses(uow: UnitOfWork) -> None:
    user_id = await create(uow)
    found = await uow.users.get_by_id(user_id)
    assert found is not None and found.id == user_id
    assert await uow.users.get_by_id(uuid.uuid4()) is None


async def test_find_by_email_ignores_case(uow: UnitOfWork) -> None:
    user_id = await create(uow, "Grace@Example.com")
    found = await uow.users.find_by_email("grace@EXAMPLE.com")
    assert found is not None and found.id == user_id
    assert await uow.users.find_by_email("nobody@example.com") is None


async def test_find_by_email_is_an_index_scan_on_lower_email(
    uow: UnitOfWork, conn: asyncpg.Connection
) -> None:
    await create(uow)
    await conn.execute("SET LOCAL enable_seqscan = off")
    plan = "\n".join(
        r[0]
        for r in await conn.fetch(
            "EXPLAIN SELECT id FROM users WHERE lower(email) = lower($1)", "x"
        )
    )
    # Both indexes on lower(email) serve the equality: the unique one, and the admin
    # listing's prefix index (text_pattern_ops has the same = operator). Either is one probe.
    assert re.search(r"Index (Only )?Scan using users_email_(lower_key|prefix_idx)", plan), plan


async def test_record_login_holds_only_for_the_hash_it_verified(uow: UnitOfWork) -> None:
    user_id = await create(uow)
    updated = await uow.users.record_login(user_id, verified_hash="hash", new_hash=None)
    assert updated is not None and updated.last_login is not None
    assert updated.password_hash == "hash"
    assert await uow.users.record_login(uuid.uuid4(), verified_hash="hash", new_hash=None) is None
    # A hash changed since the check: nothing is recorded, nothing is rehashed.
    assert await uow.users.record_login(user_id, verified_hash="older", new_hash="x") is None
    rehashed = await uow.users.record_login(user_id, verified_hash="hash", new_hash="rehash")
    assert rehashed is not None and rehashed.password_hash == "rehash"
    await uow.users.set_active(user_id, False)
    assert await uow.users.record_login(user_id, verified_hash="rehash", new_hash=None) is None


async def test_replace_password_hash_is_a_compare_and_set(uow: UnitOfWork) -> None:
    user_id = await create(uow)
    assert await uow.users.replace_password_hash(user_id, old_hash="other", new_hash="n") is None
    changed = await uow.users.replace_password_hash(user_id, old_hash="hash", new_hash="n")
    assert changed is not None and changed.password_hash == "n"


async def test_set_active_and_update_password_hash(uow: UnitOfWork) -> None:
    user_id = await create(uow)
    deactivated = await uow.users.set_active(user_id, False)
    assert deactivated is not None and not deactivated.is_active
    rehashed = await uow.users.update_password_hash(user_id, "new-hash")
    assert rehashed is not None and rehashed.password_hash == "new-hash"


async def test_duplicate_email_in_any_case_is_a_conflict(uow: UnitOfWork) -> None:
    await create(uow, "grace@example.com")
    with pytest.raises(ConflictError) as caught:
        async with uow.transaction():
            await create(uow, "GRACE@example.com")
    assert caught.value.message == EMAIL_TAKEN
    assert isinstance(caught.value.__cause__, asyncpg.UniqueViolationError)


async def test_driver_errors_become_database_errors_without_parameters(uow: UnitOfWork) -> None:
    too_long = "x" * 400 + "@example.com"  # over the column's 320 characters
    with pytest.raises(DatabaseError) as caught:
        async with uow.transaction():
            await create(uow, too_long)
    assert not isinstance(caught.value, DatabaseUnavailableError)
    assert isinstance(caught.value.__cause__, asyncpg.PostgresError)
    assert too_long not in str(caught.value) and "users.create" in str(caught.value)


async def test_hash_never_appears_in_repr(uow: UnitOfWork) -> None:
    user = await uow.users.create(
        email="r@example.com", password_hash="SECRET-HASH", full_name=None
    )
    assert "SECRET-HASH" not in repr(user)


async def test_statement_timeout_is_database_unavailable(own_database: str) -> None:
    """A row lock held elsewhere makes the update hit statement_timeout: an outage, not a bug."""
    async with asyncpg.create_pool(
        own_database, min_size=1, max_size=2, server_settings={"statement_timeout": "200"}
    ) as pool:
        writer = UnitOfWork(pool, acquire_timeout=2)
        user_id = await create(writer)
        await writer.close()
        locker = await asyncpg.connect(own_database)
        try:
            async with locker.transaction():
                await locker.execute("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", user_id)
                blocked = UnitOfWork(pool, acquire_timeout=2)
                with pytest.raises(DatabaseUnavailableError) as caught:
                    await asyncio.wait_for(blocked.users.set_active(user_id, False), 5)
                assert isinstance(caught.value.__cause__, asyncpg.QueryCanceledError)
                await blocked.close()
        finally:
            await locker.close()
