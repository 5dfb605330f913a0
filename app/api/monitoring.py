"""Per request: the log context, the access line, and the HTTP metrics."""

from __future__ import annotations

import asyncio
import json
from time import perf_counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.request_id import request_id_of
from app.core.logging import bind_request, get_logger
from app.core.metrics import Metrics

access_logger = get_logger("app.access")

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


def _error_type(body: bytes) -> str:
    try:
        error_type = json.loads(body)["error"]["type"]
    except (ValueError, KeyError, TypeError):
        return "unknown"
    return error_type if isinstance(error_type, str) else "unknown"


class RequestMonitorMiddleware:
    """Sits inside RequestIdMiddleware, so the request id is known, and outside everything
    that can answer (body limit, routes, error handlers), so every response is counted.

    Error responses are counted by the `type` of the envelope the client received, read
    from the response body: every path that renders an envelope is counted the same way.
    An exception escaping to the server's last-resort handler is a 500 InternalServerError.
    """

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bind_request(request_id_of(scope))
        started = perf_counter()
        status: int | None = None
        error_type: str | None = None

        async def observed_send(message: Message) -> None:
            nonlocal status, error_type
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and (status or 0) >= 400:
                error_type = error_type or _error_type(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        except asyncio.CancelledError:
            status = status or CLIENT_GONE
            raise
        except Exception:
            if status is None:
                status, error_type = 500, "InternalServerError"
            raise
        finally:
            self._record(scope, status or CLIENT_GONE, error_type, perf_counter() - started)

    def _record(self, scope: Scope, status: int, error_type: str | None, seconds: float) -> None:
        method = scope["method"] if scope["method"] in METHODS else OTHER_METHOD
        route = route_of(scope)
        m = self.metrics
        m.http_requests.labels(method, route, str(status)).inc()
        m.http_request_seconds.labels(method, route).observe(seconds)
        if error_type is not None:
            m.http_errors.labels(error_type).inc()
        access_logger.info(
            "request",
            method=method,
            route=route,
            path=scope["path"],
            status=status,
            duration_ms=round(seconds * 1000, 2),
        )
