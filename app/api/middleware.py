"""The one ASGI middleware of ours: request id, body limit, HTTP metrics and the access line.

One layer, one `send` wrapper: each of these used to be its own middleware, and every layer
costs a call and a closure per request (docs/performance.md). It sits outside everything
that can answer (routes, error handlers), so every response is counted and logged and
carries X-Request-ID.
"""

from __future__ import annotations

import asyncio
from time import perf_counter
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import envelope
from app.api.monitoring import CLIENT_GONE, error_type_of, method_label, route_of
from app.api.request_id import HEADER_BYTES, choose_request_id, current_request_id
from app.core.errors import PayloadTooLargeError
from app.core.logging import bind_request
from app.core.metrics import Metrics

_CONTENT_LENGTH = b"content-length"


class RequestMiddleware:
    """Error responses are counted by the `type` of the envelope the client received, read
    from the response body, so every path that renders an envelope is counted the same way.
    An exception escaping to the server's last-resort handler is a 500 InternalServerError.

    Bodies: Content-Length is checked up front (the server never delivers more than it
    declares); a body without one is counted as it streams in, and one that grows too large
    raises inside the route, where the error handlers turn it into the same 413 envelope.
    """

    def __init__(
        self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int, access_log: Any
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.access_log = access_log  # app.core.logging.access_logger()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        incoming_id: bytes | None = None
        declared_length: bytes | None = None
        for key, value in scope["headers"]:
            if key == HEADER_BYTES:
                incoming_id = value
            elif key == _CONTENT_LENGTH:
                declared_length = value
        request_id = choose_request_id(incoming_id)
        request_id_bytes = request_id.encode("latin-1")
        scope.setdefault("state", {})["request_id"] = request_id
        token = current_request_id.set(request_id)
        bind_request(request_id)
        status: int | None = None
        error_type: str | None = None

        async def observed_send(message: Message) -> None:
            nonlocal status, error_type
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers") or []
                if not any(key.lower() == HEADER_BYTES for key, _ in headers):
                    message["headers"] = [*headers, (HEADER_BYTES, request_id_bytes)]
            elif message["type"] == "http.response.body" and (status or 0) >= 400:
                error_type = error_type or error_type_of(message.get("body", b""))
            await send(message)

        try:
            if declared_length is not None:
                if not declared_length.isdigit() or int(declared_length) > self.max_body_bytes:
                    too_large = PayloadTooLargeError(self._too_large_message)
                    await envelope(too_large, request_id)(scope, receive, observed_send)
                    return
                await self.app(scope, receive, observed_send)
            else:
                await self.app(scope, self._limited(receive), observed_send)
        except asyncio.CancelledError:
            status = status or CLIENT_GONE
            raise
        except Exception:
            if status is None:
                status, error_type = 500, "InternalServerError"
            raise
        finally:
            self._record(scope, status or CLIENT_GONE, error_type, perf_counter() - started)
            current_request_id.reset(token)

    def _limited(self, receive: Receive) -> Receive:
        received = 0
        max_bytes = self.max_body_bytes

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise PayloadTooLargeError(self._too_large_message)
            return message

        return limited_receive

    @property
    def _too_large_message(self) -> str:
        return f"Request body exceeds {self.max_body_bytes} bytes"

    def _record(self, scope: Scope, status: int, error_type: str | None, seconds: float) -> None:
        method, route = method_label(scope["method"]), route_of(scope)
        series = self.metrics.request(method, route, status)
        series.requests.inc()
        series.seconds.observe(seconds)
        if error_type is not None:
            self.metrics.http_errors.labels(error_type).inc()
        self.access_log.info(
            "request",
            method=method,
            route=route,
            path=scope["path"],
            status=status,
            duration_ms=round(seconds * 1000, 2),
        )
