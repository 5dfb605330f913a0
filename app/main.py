"""The application factory: the one place that wires the layers together."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api.body_limit import BodyLimitMiddleware
from app.api.errors import install_error_handlers
from app.api.request_id import RequestIdMiddleware
from app.api.routes import auth, health, users
from app.core.passwords import PasswordHasher
from app.core.settings import Settings
from app.core.tokens import TokenCodec
from app.db.database import Database
from app.services.auth import AuthService
from app.services.users import UserService

logger = logging.getLogger("app")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    settings.check_production()

    hasher = PasswordHasher(rounds=settings.bcrypt_rounds)
    tokens = TokenCodec.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings)
        await database.open()
        app.state.database = database
        await hasher.warm_up()
        try:
            yield
        finally:
            await database.close()

    app = FastAPI(
        title="auth-service",
        version="0.1.0",
        description="User accounts and login over PostgreSQL.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.user_service = UserService(hasher=hasher)
    app.state.auth_service = AuthService(hasher=hasher, tokens=tokens)

    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)  # added last: outermost, so every response has it

    for module in (health, auth, users):
        app.include_router(module.router)
    return app
