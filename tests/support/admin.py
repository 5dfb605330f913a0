"""Admins for tests: granted the way an operator grants it (the admin service, as the CLI
does), then logged in over HTTP like anyone else."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from app.core.models import Actor
from app.db.uow import UnitOfWork
from app.services.admin import AdminService
from tests.support.http import register
from tests.support.sessions import Pair, bearer, login


async def grant_admin(uow: UnitOfWork, email: str, *, admin: bool = True) -> None:
    service = AdminService()
    user = await service.find_user(uow, email=email)
    await service.set_admin(uow, user_id=user.id, admin=admin, actor=Actor.cli())


async def admin_pair(
    http: httpx.AsyncClient, uow: UnitOfWork, email: str = "root@example.com"
) -> Pair:
    """Register `email`, make it an admin, and log it in."""
    await register(http, email=email)
    await grant_admin(uow, email)
    return await login(http, email)


async def admin_get(http: httpx.AsyncClient, caller: Pair, path: str, **params: Any) -> Any:
    """GET an admin route that must answer 200; its JSON."""
    response = await http.get(f"/api/v1/admin/users{path}", params=params, headers=bearer(caller))
    assert response.status_code == 200, response.text
    return response.json()


# What a login writes; the admin tests count the administrative events around them.
SIGN_IN_EVENTS = ("login", "login_failed")


async def audit_rows(
    conn: asyncpg.Connection, user_id: UUID | str, *, sign_ins: bool = True
) -> list[dict[str, Any]]:
    """The user's audit events, oldest first (read as SQL: the reading API is not ours);
    without the login and login_failed ones when `sign_ins` is false."""
    rows = await conn.fetch(
        "SELECT type, actor_id, address, details FROM audit_events"
        " WHERE user_id = $1 AND ($2 OR type <> ALL($3::text[])) ORDER BY id",
        UUID(str(user_id)),
        sign_ins,
        list(SIGN_IN_EVENTS),
    )
    return [{**row, "details": json.loads(row["details"])} for row in rows]
