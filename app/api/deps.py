"""FastAPI dependencies: the request's unit of work, the authenticated user, and `provide`,
which gives a route a service of the container (`SessionServiceDep`, declared in the route
module that takes it; here only those several modules take)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.api.monitoring import route_of
from app.core.errors import AuthenticationError, AuthorizationError
from app.core.logging import bind
from app.core.metrics import Metrics
from app.core.models import User
from app.db.database import Database
from app.db.uow import UnitOfWork
from app.services.account_deletion import AccountDeletionService
from app.services.auth import Authenticated, AuthService
from app.services.container import Services

T = TypeVar("T")

# auto_error=False: a missing token becomes our AuthenticationError envelope.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_uow_opener(request: Request) -> Callable[[], UnitOfWork]:
    """How this request opens its unit of work: the one override point for tests, which
    hand in a unit of work on their own savepointed connection."""
    database: Database = request.app.state.database
    return database.unit_of_work


UowOpener = Annotated[Callable[[], UnitOfWork], Depends(get_uow_opener)]


async def get_uow(request: Request, open_uow: UowOpener) -> AsyncIterator[UnitOfWork]:
    bind(route=route_of(request.scope))  # names the route in a "connection held" warning
    uow = open_uow()
    try:
        yield uow
    finally:
        await uow.close()


# scope="function": the connection goes back to the pool when the route returns, before the
# response is sent, so slow clients never hold pool connections. Commits happen in services.
Uow = Annotated[UnitOfWork, Depends(get_uow, scope="function")]


def services_of(request: Request) -> Services:
    """The app's service container (app/services/container.py), built once in create_app."""
    services: Services = request.app.state.services
    return services


def provide(pick: Callable[[Services], T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency giving one member of the container. `async def` although nothing is
    awaited: FastAPI runs a plain `def` dependency in a worker thread, a hop that cost a
    third of GET /users/me's CPU (docs/performance.md)."""

    async def dependency(request: Request) -> T:
        return pick(request.app.state.services)

    return dependency


# The services several route modules take; one that a single route module takes is declared
# there, beside its use, the same way (SessionServiceDep in app/api/routes/sessions.py).
AuthServiceDep = Annotated[AuthService, Depends(provide(lambda s: s.auth))]
AccountDeletionServiceDep = Annotated[
    AccountDeletionService, Depends(provide(lambda s: s.account_deletion))
]
MetricsDep = Annotated[Metrics, Depends(provide(lambda s: s.metrics))]


async def get_client_address(request: Request) -> str:
    """The peer address lockouts count by. Behind a proxy it is the forwarded client only
    when uvicorn trusts that proxy (--proxy-headers, FORWARDED_ALLOW_IPS)."""
    return request.client.host if request.client else "unknown"


async def get_user_agent(request: Request) -> str | None:
    """The client's User-Agent, recorded with the session a login opens."""
    return request.headers.get("user-agent")


ClientAddress = Annotated[str, Depends(get_client_address)]
UserAgent = Annotated[str | None, Depends(get_user_agent)]


def identify(user: User) -> None:
    """From here on, this request's log lines and error reports carry the user id."""
    bind(user_id=str(user.id))


async def get_current_session(
    request: Request, uow: Uow, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Authenticated:
    """One dependency for the whole authenticated path: the service is read here rather
    than solved as a dependency of its own (each solved dependency costs per request)."""
    if not token:
        raise AuthenticationError("Not authenticated")
    authenticated = await services_of(request).auth.authenticate(uow, token)
    identify(authenticated.user)
    return authenticated


async def get_current_user_only(
    request: Request, open_uow: UowOpener, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    """The caller, for a route whose only database work is the session check: the check
    runs on a unit of work of its own, whose connection is back in the pool before the
    route runs. No generator dependency and no exit stack entry, which cost about a tenth
    of GET /users/me's CPU (docs/performance.md). A route that goes on to use the database
    takes CurrentUser with Uow instead: one connection per request."""
    if not token:
        raise AuthenticationError("Not authenticated")
    bind(route=route_of(request.scope))  # names the route in a "connection held" warning
    uow = open_uow()
    try:
        authenticated = await services_of(request).auth.authenticate(uow, token)
    finally:
        await uow.close()
    identify(authenticated.user)
    return authenticated.user


# The same work as get_current_session, returning the user only. Not a layer on top of it:
# each dependency level costs on every request (docs/performance.md).
async def get_current_user(
    request: Request, uow: Uow, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    return (await get_current_session(request, uow, token)).user


async def get_current_admin(
    request: Request, uow: Uow, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    """The caller, who must be an admin. The flag comes from the session check's own query,
    so a revoked admin is refused on the very next request."""
    user = (await get_current_session(request, uow, token)).user
    if not user.is_admin:
        raise AuthorizationError("Administrator access required")
    return user


CurrentSession = Annotated[Authenticated, Depends(get_current_session)]
CurrentUser = Annotated[User, Depends(get_current_user)]
CurrentUserOnly = Annotated[User, Depends(get_current_user_only)]
CurrentAdmin = Annotated[User, Depends(get_current_admin)]
