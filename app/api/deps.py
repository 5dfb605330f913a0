"""FastAPI dependencies: the request's unit of work and the authenticated user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.core.errors import AuthenticationError
from app.core.models import User
from app.db.uow import UnitOfWork
from app.services.auth import AuthService
from app.services.users import UserService

# auto_error=False: a missing token becomes our AuthenticationError envelope.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    uow: UnitOfWork = request.app.state.database.unit_of_work()
    try:
        yield uow
    finally:
        await uow.close()


# scope="function": the connection goes back to the pool when the route returns, before the
# response is sent, so slow clients never hold pool connections. Commits happen in services.
Uow = Annotated[UnitOfWork, Depends(get_uow, scope="function")]


# `async def` although nothing is awaited: FastAPI runs a plain `def` dependency in a worker
# thread, a hop that cost a third of GET /users/me's CPU (docs/performance.md).
async def get_auth_service(request: Request) -> AuthService:
    service: AuthService = request.app.state.auth_service
    return service


async def get_user_service(request: Request) -> UserService:
    service: UserService = request.app.state.user_service
    return service


Auth = Annotated[AuthService, Depends(get_auth_service)]
Users = Annotated[UserService, Depends(get_user_service)]


async def get_current_user(
    uow: Uow, auth: Auth, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    if not token:
        raise AuthenticationError("Not authenticated")
    return await auth.user_for_token(uow, token)


CurrentUser = Annotated[User, Depends(get_current_user)]
