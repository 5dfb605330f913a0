"""Where every route is attached: the one place that states the prefixes and the tags.

The route modules declare their operations on plain routers (no prefix, no tags); here each
operation is added to the application's own router. `include_router` would keep each router
as an `_IncludedRouter` layer that is matched and entered on every request (FastAPI 0.121+);
added flat, a request meets one route table.

The table is built once per process and each app gets its own shallow copy of each route
(`_bound`): building an `APIRoute` is the dear part of an app (FastAPI reads the endpoint's
signature and builds a validator for every documented response: about 30 ms for this table),
and the only part that differs between apps is the request handler, which holds the app whose
`dependency_overrides` it consults. Production builds one app per process; the test suite
builds hundreds.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Final

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, request_response

from app.api.routes import (
    admin_users,
    audit_events,
    auth,
    email_verification,
    health,
    password_reset,
    sessions,
    users,
    well_known,
)

API_PREFIX: Final = "/api/v1"

ROUTERS: Final[tuple[tuple[APIRouter, str, str], ...]] = (
    (health.router, "", "health"),
    (auth.router, f"{API_PREFIX}/auth", "auth"),
    (password_reset.router, f"{API_PREFIX}/auth", "auth"),
    (users.router, f"{API_PREFIX}/users", "users"),
    (sessions.router, f"{API_PREFIX}/users/me/sessions", "users"),
    (email_verification.router, f"{API_PREFIX}/users", "users"),
    (well_known.router, "/.well-known", "discovery"),
    (admin_users.router, f"{API_PREFIX}/admin/users", "admin"),
    (audit_events.router, f"{API_PREFIX}/admin/audit-events", "admin"),
)


def attach_routes(app: FastAPI) -> None:
    app.router.routes.extend(_bound(route, app) for route in _route_table())


@cache
def _route_table() -> tuple[APIRoute, ...]:
    """Every operation at its prefix and under its tag, bound to no app yet."""
    table = APIRouter()
    for router, prefix, tag in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute), f"not an API route: {route!r}"
            # A per-route body limit would wrap the handler (fastapi._body_limit), which
            # _bound does not redo; the body limit here is the middleware's.
            assert route.max_body_size is None, f"per-route body limit on {route.path}"
            _attach(table, route, prefix, tag)
    return tuple(route for route in table.routes if isinstance(route, APIRoute))


def _bound(route: APIRoute, app: FastAPI) -> APIRoute:
    """`route` answering through `app`'s dependency overrides, as `APIRoute.__init__` sets
    it up: the analysed signature, fields and validators are shared, not rebuilt."""
    bound = copy.copy(route)
    bound.dependency_overrides_provider = app
    bound.app = request_response(bound.get_route_handler())
    return bound


def _attach(table: APIRouter, route: APIRoute, prefix: str, tag: str) -> None:
    """The operation as declared, at `prefix`, under `tag`: what include_router passed on
    before it kept the router as a layer."""
    table.add_api_route(
        prefix + route.path,
        route.endpoint,
        response_model=route.response_model,
        status_code=route.status_code,
        tags=[tag, *route.tags],
        dependencies=route.dependencies,
        summary=route.summary,
        description=route.description,
        response_description=route.response_description,
        responses=route.responses,
        deprecated=route.deprecated,
        methods=route.methods,
        operation_id=route.operation_id,
        response_model_include=route.response_model_include,
        response_model_exclude=route.response_model_exclude,
        response_model_by_alias=route.response_model_by_alias,
        response_model_exclude_unset=route.response_model_exclude_unset,
        response_model_exclude_defaults=route.response_model_exclude_defaults,
        response_model_exclude_none=route.response_model_exclude_none,
        include_in_schema=route.include_in_schema,
        response_class=route.response_class,
        name=route.name,
        route_class_override=type(route),
        callbacks=route.callbacks,
        openapi_extra=route.openapi_extra,
        generate_unique_id_function=route.generate_unique_id_function,
        strict_content_type=route.strict_content_type,
        max_body_size=route.max_body_size,
        form_limits=route.form_limits,
    )
