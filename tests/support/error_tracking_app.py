"""The real app plus two failing routes, served by uvicorn in test_error_tracking.py.

Settings come from the environment, as in production: SENTRY_DSN points at the test's
fake Sentry server.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.api.deps import CurrentUser
from app.core.errors import DatabaseUnavailableError
from app.main import create_app

LOCAL_SECRET = "local-secret-in-a-frame-5d1e"


def create() -> FastAPI:
    app = create_app()

    @app.post("/boom/{item_id}")
    async def boom(item_id: int, body: dict[str, Any], user: CurrentUser) -> None:
        password = LOCAL_SECRET  # a report that sent frame locals would leak it
        raise RuntimeError(f"boom on item {item_id} after a {len(password)}-char check")

    @app.post("/unavailable")
    async def unavailable(body: dict[str, Any], user: CurrentUser) -> None:
        raise DatabaseUnavailableError("users.get_by_id: database unavailable")

    return app
