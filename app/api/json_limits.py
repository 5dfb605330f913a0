"""JSON bodies nested deeper than MAX_JSON_DEPTH are refused with a clear 422.

No body this API accepts nests at all; the limit keeps a crafted body from costing deep
recursion in the parser and the validator. Size is RequestMiddleware's job
(app/api/middleware.py), string lengths are each field's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

MAX_JSON_DEPTH = 8


def _deeper_than(value: Any, limit: int) -> bool:
    """Iterative, so the check itself cannot recurse too deep."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class _DepthLimitedRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                value = json.loads(body)
            except RecursionError:  # the C parser's own guard, at about a thousand levels
                value = None
                too_deep = True
            else:
                too_deep = isinstance(value, dict | list) and _deeper_than(value, MAX_JSON_DEPTH)
            if too_deep:
                # FastAPI re-raises HTTPException from body parsing; errors.py renders the
                # envelope (ValidationError, 422) with this text as the detail.
                raise HTTPException(422, f"JSON nesting exceeds {MAX_JSON_DEPTH} levels")
            self._json = value
        return self._json


class LimitedJsonRoute(APIRoute):
    """An APIRoute whose request parses JSON with the depth limit."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            return await handler(_DepthLimitedRequest(request.scope, request.receive))

        return limited
