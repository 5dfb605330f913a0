"""The admin routes in process: who may call them, what they answer, and that a change
(revoking admin, deactivating a user) takes effect on the very next request."""

from __future__ import annotations

from uuid import uuid4

import asyncpg
import httpx
import pytest

from app.db.uow import UnitOfWork
from tests.support.admin import admin_get, admin_pair, audit_rows, grant_admin
from tests.support.http import USER_FIELDS, assert_envelope, register
from tests.support.sessions import Pair, bearer, login, me, refresh
from tests.support.settings import TEST_PASSWORD

SOME_ID = "00000000-0000-4000-8000-000000000000"
ROUTES = [
    ("GET", "/api/v1/admin/users"),
    ("GET", f"/api/v1/admin/users/{SOME_ID}"),
    ("POST", f"/api/v1/admin/users/{SOME_ID}/deactivate"),
    ("POST", f"/api/v1/admin/users/{SOME_ID}/activate"),
]


@pytest.fixture
async def root(client: httpx.AsyncClient, uow: UnitOfWork) -> Pair:
    return await admin_pair(client, uow)


async def call(http: httpx.AsyncClient, method: str, path: str, caller: Pair) -> httpx.Response:
    return await http.request(method, path, headers=bearer(caller))


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_admin_route_refuses_a_non_admin_and_a_missing_token(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    await register(client)
    user = await login(client)
    assert_envelope(await call(client, method, path, user), 403, "AuthorizationError")
    missing = await client.request(method, path)
    assert_envelope(missing, 401, "AuthenticationError")
    assert missing.headers["WWW-Authenticate"] == "Bearer"


async def test_revoking_admin_takes_effect_on_the_next_request(
    client: httpx.AsyncClient, uow: UnitOfWork, root: Pair
) -> None:
    await admin_get(client, root, "")
    await grant_admin(uow, "root@example.com", admin=False)
    assert_envelope(await call(client, *ROUTES[0], root), 403, "AuthorizationError")


async def test_listing_answers_users_and_a_cursor(client: httpx.AsyncClient, root: Pair) -> None:
    for name in ("ada", "grace", "alan"):
        await register(client, email=f"{name}@example.com")
    first = await admin_get(client, root, "", limit=2)
    assert set(first) == {"items", "next_cursor"}
    assert [set(item) for item in first["items"]] == [USER_FIELDS, USER_FIELDS]
    rest = await admin_get(client, root, "", limit=2, cursor=first["next_cursor"])
    assert rest["next_cursor"] is None
    items = first["items"] + rest["items"]
    # Inside the test's one transaction every created_at is the same: the ids order them.
    assert [item["id"] for item in items] == sorted(item["id"] for item in items)
    assert {item["email"] for item in items} == {
        f"{name}@example.com" for name in ("root", "ada", "grace", "alan")
    }
    assert [item["is_admin"] for item in items].count(True) == 1


async def test_email_filter_is_a_case_insensitive_prefix(
    client: httpx.AsyncClient, root: Pair
) -> None:
    await register(client, email="Ada@Example.com")
    await register(client, email="adam@example.com")
    page = await admin_get(client, root, "", email="ADA@")
    assert [item["email"] for item in page["items"]] == ["ada@example.com"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "x" * 32}, "cursor"),
        ({"cursor": "c" * 65}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"email": "a\x00b"}, "email"),
    ],
)
async def test_bad_paging_input_is_a_validation_error(
    client: httpx.AsyncClient, root: Pair, params: dict[str, str], field: str
) -> None:
    response = await client.get("/api/v1/admin/users", params=params, headers=bearer(root))
    error = assert_envelope(response, 422, "ValidationError")
    assert [detail["field"] for detail in error["details"]] == [f"query.{field}"]  # type: ignore[attr-defined]
    if len(params[field]) > 3:  # a short value could be part of the request id
        assert params[field] not in response.text


async def test_limit_bounds_are_accepted(client: httpx.AsyncClient, root: Pair) -> None:
    for limit in (1, 100):
        assert len((await admin_get(client, root, "", limit=limit))["items"]) == 1


async def test_one_user_by_id_and_the_unknown_and_malformed_ids(
    client: httpx.AsyncClient, root: Pair
) -> None:
    ada = await register(client)
    assert await admin_get(client, root, f"/{ada['id']}") == ada
    assert_envelope(
        await call(client, "GET", f"/api/v1/admin/users/{uuid4()}", root), 404, "NotFoundError"
    )
    for path in ("/api/v1/admin/users/42", "/api/v1/admin/users/42/deactivate"):
        method = "POST" if path.endswith("deactivate") else "GET"
        assert_envelope(await call(client, method, path, root), 422, "ValidationError")
    unknown = await call(client, "POST", f"/api/v1/admin/users/{uuid4()}/activate", root)
    assert_envelope(unknown, 404, "NotFoundError")


async def test_deactivation_ends_access_and_refresh_on_the_next_request(
    client: httpx.AsyncClient, conn: asyncpg.Connection, root: Pair
) -> None:
    ada = await register(client)
    pair = await login(client)
    assert await me(client, pair) == 200

    response = await call(client, "POST", f"/api/v1/admin/users/{ada['id']}/deactivate", root)
    assert response.status_code == 200 and response.json()["is_active"] is False

    assert await me(client, pair) == 401
    assert_envelope(await refresh(client, pair), 401, "AuthenticationError")
    relogin = await client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": TEST_PASSWORD}
    )
    assert_envelope(relogin, 403, "AuthorizationError")

    activated = await call(client, "POST", f"/api/v1/admin/users/{ada['id']}/activate", root)
    assert activated.status_code == 200 and activated.json()["is_active"] is True
    assert await me(client, pair) == 401  # activation revives no session
    assert (await refresh(client, pair)).status_code == 401
    assert await me(client, await login(client)) == 200

    events = await audit_rows(conn, ada["id"], sign_ins=False)
    assert [event["type"] for event in events] == ["user_deactivated", "user_activated"]
    assert {(str(e["actor_id"]), e["address"]) for e in events} == {
        (root["user"]["id"], "127.0.0.1")
    }
    assert all(event["details"] == {} for event in events)


async def test_an_admin_deactivating_themselves_is_a_conflict(
    client: httpx.AsyncClient, conn: asyncpg.Connection, root: Pair
) -> None:
    own = await call(client, "POST", f"/api/v1/admin/users/{root['user']['id']}/deactivate", root)
    error = assert_envelope(own, 409, "ConflictError")
    assert error["message"] == "An administrator cannot deactivate their own account"
    assert await me(client, root) == 200
    events = await audit_rows(conn, root["user"]["id"], sign_ins=False)
    assert [e["type"] for e in events] == ["admin_granted"]


async def test_admin_routes_sit_under_the_admin_tag_with_their_errors_documented(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "admin" in {tag["name"] for tag in spec["tags"]}
    admin_paths = {path: ops for path, ops in spec["paths"].items() if "/admin/users" in path}
    assert len(admin_paths) == 4  # the list, one user, deactivate, activate
    for operations in admin_paths.values():
        for operation in operations.values():
            assert operation["tags"] == ["admin"]
            assert {"401", "403", "422"} <= set(operation["responses"])
    deactivate = admin_paths["/api/v1/admin/users/{user_id}/deactivate"]["post"]
    assert {"404", "409"} <= set(deactivate["responses"])
