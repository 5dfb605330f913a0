"""The ceiling: GET /api/v1/users/me with no framework, as a yardstick for the project.

A bare ASGI callable doing the same work per request: the same python-jose decode with the
same checks, the same SELECT (the user joined with their session) through a pool opened
with the project's own pool options (`Database`), and the same user JSON out. What the
project spends beyond this is the cost of the framework and of our layers. Run it with
`uvicorn bench.ceiling:create_app --factory`.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from jose import jwt
from jose.exceptions import JOSEError
from starlette.types import Receive, Scope, Send

from app.core.settings import Settings
from app.core.tokens import REQUIRED_CLAIMS
from app.db.database import Database
from app.repositories.sessions import USER_OF_LIVE_SESSION

_JSON = [(b"content-type", b"application/json")]


class Ceiling:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.database = Database(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["path"] == "/api/v1/users/me":
            status, body = await self._me(scope)
            await _respond(send, status, body)
        elif scope["path"] == "/health":
            await _respond(send, 200, {"status": "ok"})
        else:
            await _respond(send, 404, {"error": "not found"})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.database.open()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.database.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _me(self, scope: Scope) -> tuple[int, dict[str, Any]]:
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return 401, {"error": "not authenticated"}
        s = self.settings
        try:
            claims = jwt.decode(
                token,
                s.jwt_secret_value,
                algorithms=[s.jwt_algorithm],
                audience=s.jwt_audience,
                issuer=s.jwt_issuer,
                options=REQUIRED_CLAIMS,
            )
            user_id, session_id = UUID(claims["sub"]), UUID(claims["sid"])
        except (JOSEError, KeyError, ValueError):
            return 401, {"error": "invalid token"}
        async with self.database.pool.acquire() as conn:
            row = await conn.fetchrow(USER_OF_LIVE_SESSION, session_id, user_id)
        if row is None:  # unknown, ended or expired session, or an inactive user
            return 401, {"error": "invalid token"}
        return 200, {
            "id": str(row["id"]),
            "email": row["email"],
            "full_name": row["full_name"],
            "is_active": row["is_active"],
            "created_at": row["created_at"].isoformat(),
            "last_login": row["last_login"] and row["last_login"].isoformat(),
        }


async def _respond(send: Send, status: int, body: dict[str, Any]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": _JSON})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


def create_app() -> Ceiling:
    return Ceiling(Settings())
