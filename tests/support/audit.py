"""Reading the audit trail and making an admin, as the audit and deletion tests need."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests.support.http import login, register
from tests.support.settings import TEST_PASSWORD

ADMIN_EMAIL = "root@example.com"


async def make_admin(http: httpx.AsyncClient, conn: asyncpg.Connection) -> dict[str, str]:
    """Register an account, set its flag (no HTTP route grants it), and log it in."""
    body = await register(http, ADMIN_EMAIL)
    await conn.execute("UPDATE users SET is_admin = true WHERE id = $1", body["id"])
    return {"Authorization": f"Bearer {await login(http, ADMIN_EMAIL, TEST_PASSWORD)}"}


async def events_of(conn: asyncpg.Connection, user_id: Any) -> list[asyncpg.Record]:
    """A user's events, oldest first."""
    return list(
        await conn.fetch(
            "SELECT type, user_id, actor_id, address, details::text AS details"
            " FROM audit_events WHERE user_id = $1 ORDER BY id",
            user_id,
        )
    )
