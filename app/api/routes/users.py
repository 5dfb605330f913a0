"""Registration and the caller's own profile."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import CurrentUser, Uow, Users
from app.api.routes.responses import error_responses
from app.api.schemas import UserCreate, UserOut

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register a user",
    description="Creates an account. Emails are unique regardless of letter case.",
    responses=error_responses(409, 503),
)
async def register(body: UserCreate, uow: Uow, users: Users) -> UserOut:
    user = await users.register(
        uow, email=body.email, password=body.password, full_name=body.full_name
    )
    return UserOut.of(user)


@router.get(
    "/me",
    summary="The authenticated user",
    description="Returns the user named by the Bearer access token.",
    responses=error_responses(401, 403, 503),
)
async def me(user: CurrentUser) -> UserOut:
    return UserOut.of(user)
