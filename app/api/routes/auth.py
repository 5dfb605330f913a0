"""Logging in (JSON for API clients, the OAuth2 password form for the docs page),
refreshing the token pair, and logging out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Response, status
from pydantic import AfterValidator

from app.api.deps import (
    AuthServiceDep,
    ClientAddress,
    CurrentUser,
    MetricsDep,
    Uow,
    UserAgent,
    identify,
)
from app.api.json_limits import LimitedJsonRoute
from app.api.routes.responses import NO_STORE, error_responses
from app.api.schemas.auth import (
    LoginOut,
    LoginRequest,
    LogoutRequest,
    RefreshRequest,
    TokenOut,
    TokenPairOut,
)
from app.api.schemas.fields import MAX_LOGIN_PASSWORD_CHARS, PLAIN_TEXT, plain_text
from app.core.emails import MAX_EMAIL_CHARS

router = APIRouter(route_class=LimitedJsonRoute)  # attached in app.api.routes


@router.post(
    "/login",
    summary="Log in",
    description=(
        "Exchanges email and password for a short-lived Bearer access token and an opaque "
        "refresh token. An unknown email and a wrong password get the same 401 in the same "
        "time. Too many failures on one account or from one address get a 429 with "
        "Retry-After. A database outage is a 503, never a 401."
    ),
    responses=error_responses(401, 403, 429, 503),
    dependencies=NO_STORE,
)
async def login(
    body: LoginRequest,
    uow: Uow,
    auth: AuthServiceDep,
    client_address: ClientAddress,
    user_agent: UserAgent,
    metrics: MetricsDep,
) -> LoginOut:
    with metrics.login_outcome():
        result = await auth.login(
            uow,
            email=body.email,
            password=body.password,
            client_address=client_address,
            user_agent=user_agent,
        )
    identify(result.user)
    return LoginOut.model_validate(result)


@router.post(
    "/token",
    summary="Log in with the OAuth2 password form",
    description=(
        "For OAuth2 clients and the docs page's Authorize button: `username` is the email. "
        "Same checks and lockouts as /login, and it opens a session too; no refresh token."
    ),
    responses=error_responses(401, 403, 429, 503),
    dependencies=NO_STORE,
)
async def token(
    username: Annotated[
        str,
        Form(max_length=MAX_EMAIL_CHARS, json_schema_extra=PLAIN_TEXT),
        AfterValidator(plain_text),
    ],
    password: Annotated[
        str,
        Form(max_length=MAX_LOGIN_PASSWORD_CHARS, json_schema_extra=PLAIN_TEXT),
        AfterValidator(plain_text),
    ],
    uow: Uow,
    auth: AuthServiceDep,
    client_address: ClientAddress,
    user_agent: UserAgent,
    metrics: MetricsDep,
) -> TokenOut:
    with metrics.login_outcome():
        result = await auth.login_for_token(
            uow,
            email=username,
            password=password,
            client_address=client_address,
            user_agent=user_agent,
        )
    identify(result.user)
    return TokenOut.model_validate(result)


@router.post(
    "/refresh",
    summary="Rotate the refresh token",
    description=(
        "Spends the refresh token and returns a new pair in the same session (the access "
        "token keeps its `sid`). A refresh token can be spent once: presenting a spent one "
        "ends its whole session (every token descended from the same login) and gets a 401. "
        "A session ends SESSION_MAX_AGE_DAYS after its login, however often it is refreshed."
    ),
    responses=error_responses(401, 403, 503),
    dependencies=NO_STORE,
)
async def refresh(body: RefreshRequest, uow: Uow, auth: AuthServiceDep) -> TokenPairOut:
    return TokenPairOut.model_validate(await auth.refresh(uow, refresh_token=body.refresh_token))


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Log out",
    description=(
        "Ends the session of the given refresh token (this login on this device): its "
        "refresh and access tokens stop working at once."
    ),
    responses=error_responses(401, 403, 503),
)
async def logout(
    body: LogoutRequest,
    user: CurrentUser,
    uow: Uow,
    auth: AuthServiceDep,
    client_address: ClientAddress,
) -> None:
    await auth.logout(
        uow, user=user, refresh_token=body.refresh_token, client_address=client_address
    )
