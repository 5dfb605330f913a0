"""The route table is built once per process and bound to each app (app/api/routes): apps
share the analysed routes but answer through their own dependency overrides."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.api.deps import get_current_user_only
from app.core.models import User
from app.main import create_app
from tests.support.http import USER_FIELDS, assert_envelope, client_for
from tests.support.settings import make_settings


def _someone() -> User:
    now = datetime.now(UTC)
    return User(
        id=uuid.uuid4(),
        email="someone@example.com",
        full_name=None,
        is_active=True,
        created_at=now,
        updated_at=now,
        last_login=None,
        email_verified=True,
        is_admin=False,
        password_hash="never read: the dependency is overridden",
    )


def _operation(app: FastAPI, path: str) -> APIRoute:
    return next(r for r in app.routes if isinstance(r, APIRoute) and r.path == path)


async def test_two_apps_share_the_routes_but_not_their_dependency_overrides(app: FastAPI) -> None:
    overridden, plain = create_app(make_settings()), app  # plain: the suite's borrowing app
    overridden.dependency_overrides[get_current_user_only] = _someone

    async with client_for(overridden) as http:
        response = await http.get("/api/v1/users/me")
    assert response.status_code == 200, response.text
    assert set(response.json()) == USER_FIELDS
    async with client_for(plain) as http:
        assert_envelope(await http.get("/api/v1/users/me"), 401, "AuthenticationError")

    first, second = (
        _operation(overridden, "/api/v1/users/me"),
        _operation(plain, "/api/v1/users/me"),
    )
    assert first is not second
    assert first.dependant is second.dependant  # analysed once, not per app
    assert first.dependency_overrides_provider is overridden
    assert second.dependency_overrides_provider is plain


def test_every_operation_is_attached_once_at_its_prefix() -> None:
    app = create_app(make_settings())
    operations = [
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods or ())
    ]
    assert len(operations) == len(set(operations))
    for operation in [
        ("GET", "/health"),
        ("GET", "/api/v1/users/me"),
        ("GET", "/.well-known/jwks.json"),
    ]:
        assert operation in operations
