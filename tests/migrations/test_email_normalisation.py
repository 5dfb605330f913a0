"""Revision 20261202_0005 rewrites stored emails to the one normal form, and stops, changing
nothing, when two accounts would end up with one address."""

from __future__ import annotations

import asyncpg
import pytest

from tests.support.database import migrate

REVISION = "20261202_0005"
BEFORE = "20261202_0004"


async def store_as_the_old_code_did(url: str, *emails: str) -> None:
    """Users and login attempts with emails kept as given, as before this revision. Plain
    SQL of that revision's schema: today's repositories write columns it does not have."""
    conn = await asyncpg.connect(url)
    try:
        for email in emails:
            await conn.execute("INSERT INTO users (email, password_hash) VALUES ($1, 'h')", email)
            await conn.execute(
                "INSERT INTO login_attempts (email_key, client_address, outcome)"
                " VALUES (lower($1), '192.0.2.1', 'pending')",
                email,
            )
    finally:
        await conn.close()


async def stored(url: str) -> tuple[list[str], list[str]]:
    conn = await asyncpg.connect(url)
    try:
        users = await conn.fetch("SELECT email FROM users ORDER BY created_at, id")
        keys = await conn.fetch("SELECT email_key FROM login_attempts ORDER BY id")
    finally:
        await conn.close()
    return [r["email"] for r in users], [r["email_key"] for r in keys]


async def test_upgrade_normalises_emails_and_lockout_keys(empty_database: str) -> None:
    await migrate(empty_database, BEFORE)
    await store_as_the_old_code_did(
        empty_database, "ADA@XN--BCHER-KVA.DE", "Grace@Example.COM", "e\u0301mile@example.com"
    )
    await migrate(empty_database, REVISION)
    users, keys = await stored(empty_database)
    assert users == ["ada@bücher.de", "grace@example.com", "\u00e9mile@example.com"]
    assert keys == users


async def test_upgrade_stops_on_a_collision_and_changes_nothing(empty_database: str) -> None:
    await migrate(empty_database, BEFORE)
    # Distinct under the old rule (lower()), one address under IDNA.
    await store_as_the_old_code_did(empty_database, "ada@xn--bcher-kva.de", "Ada@bücher.de")
    before = await stored(empty_database)
    with pytest.raises(RuntimeError, match="several accounts once normalised"):
        await migrate(empty_database, REVISION)
    assert await stored(empty_database) == before
    conn = await asyncpg.connect(empty_database)
    try:
        assert await conn.fetchval("SELECT version_num FROM alembic_version") == BEFORE
        await conn.execute("DELETE FROM users WHERE email = 'Ada@bücher.de'")
    finally:
        await conn.close()
    await migrate(empty_database, REVISION)  # the operator resolved it: the upgrade goes on
    assert (await stored(empty_database))[0] == ["ada@bücher.de"]
