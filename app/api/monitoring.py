"""The labels of the HTTP metrics and the access line, read from a finished request."""

from __future__ import annotations

import json

from starlette.types import Scope

UNMATCHED = "<unmatched>"  # unknown paths share one label: raw paths would explode the series
# A client chooses the method: any other (PROPFIND, random bytes) is "other", one series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"
CLIENT_GONE = 499  # the client went away before a response (nginx's convention)


def route_of(scope: Scope) -> str:
    """The matched route's template ("/api/v1/users/me"), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


def method_label(method: str) -> str:
    return method if method in METHODS else OTHER_METHOD


def error_type_of(body: bytes) -> str:
    """The `type` of the error envelope in a response body."""
    try:
        error_type = json.loads(body)["error"]["type"]
    except (ValueError, KeyError, TypeError):
        return "unknown"
    return error_type if isinstance(error_type, str) else "unknown"
