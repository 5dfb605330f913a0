"""Logging in, with JSON (API clients) or the OAuth2 password form (the docs page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form

from app.api.deps import AppMetrics, Auth, Uow, identify
from app.api.routes.responses import error_responses
from app.api.schemas import LoginOut, LoginRequest, TokenOut, UserOut

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post(
    "/login",
    summary="Log in",
    description=(
        "Exchanges email and password for a Bearer access token. An unknown email and a wrong "
        "password get the same 401. A database outage is a 503, never a 401."
    ),
    responses=error_responses(401, 403, 503),
)
async def login(body: LoginRequest, uow: Uow, auth: Auth, metrics: AppMetrics) -> LoginOut:
    with metrics.login_outcome():
        result = await auth.login(uow, email=body.email, password=body.password)
    identify(result.user)
    return LoginOut(
        access_token=result.access.token,
        expires_in=result.access.expires_in,
        user=UserOut.of(result.user),
    )


@router.post(
    "/token",
    summary="Log in with the OAuth2 password form",
    description="For OAuth2 clients and the docs page's Authorize button: `username` is the email.",
    responses=error_responses(401, 403, 503),
)
async def token(
    username: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    uow: Uow,
    auth: Auth,
    metrics: AppMetrics,
) -> TokenOut:
    with metrics.login_outcome():
        result = await auth.login(uow, email=username.strip(), password=password)
    identify(result.user)
    return TokenOut(access_token=result.access.token, expires_in=result.access.expires_in)
