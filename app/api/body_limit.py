"""Refuse request bodies over MAX_BODY_BYTES before anything parses them."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import envelope
from app.api.request_id import request_id_of
from app.core.errors import PayloadTooLargeError


class BodyLimitMiddleware:
    """Checks Content-Length up front and counts streamed bytes for chunked bodies.

    A streamed body that grows too large raises inside the route, where the error
    handlers turn it into the same 413 envelope.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope["headers"]:
            if key == b"content-length":
                if not value.isdigit() or int(value) > self.max_bytes:
                    response = envelope(PayloadTooLargeError(self._message), request_id_of(scope))
                    await response(scope, receive, send)
                    return
                break
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLargeError(self._message)
            return message

        await self.app(scope, limited_receive, send)

    @property
    def _message(self) -> str:
        return f"Request body exceeds {self.max_bytes} bytes"
