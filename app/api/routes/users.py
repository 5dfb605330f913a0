"""Registration, the caller's own profile, changing the caller's password, and deleting
the caller's account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.api.deps import (
    AccountDeletionServiceDep,
    AuthServiceDep,
    ClientAddress,
    CurrentUser,
    CurrentUserOnly,
    Uow,
    provide,
)
from app.api.json_limits import LimitedJsonRoute
from app.api.routes.responses import error_responses
from app.api.schemas.users import AccountDeletion, PasswordChange, UserCreate, UserOut
from app.services.users import UserService

UserServiceDep = Annotated[UserService, Depends(provide(lambda s: s.users))]

router = APIRouter(route_class=LimitedJsonRoute)  # attached in app.api.routes


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register a user",
    description=(
        "Creates an account. Emails are normalised (NFC, IDNA domain, lower case) and unique "
        "in that form. A password on the list of common passwords is a 422. More than "
        "REGISTER_MAX_PER_ADDRESS registrations from one address within "
        "REGISTER_WINDOW_SECONDS get a 429 with Retry-After."
    ),
    responses=error_responses(409, 429, 503),
)
async def register(
    body: UserCreate, uow: Uow, users: UserServiceDep, client_address: ClientAddress
) -> UserOut:
    user = await users.register(
        uow,
        email=body.email,
        password=body.password,
        full_name=body.full_name,
        client_address=client_address,
    )
    return UserOut.of(user)


@router.get(
    "/me",
    summary="The authenticated user",
    description="Returns the user named by the Bearer access token.",
    responses=error_responses(401, 403, 503),
)
async def me(user: CurrentUserOnly) -> UserOut:
    return UserOut.of(user)


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Change the password",
    description=(
        "Requires the current password (checked, counted and locked out like a login) and "
        "applies the registration rules to the new one. Ends every session of the user, "
        "this one included: their refresh and access tokens stop working at once."
    ),
    responses=error_responses(401, 403, 429, 503),
)
async def change_password(
    body: PasswordChange,
    user: CurrentUser,
    uow: Uow,
    auth: AuthServiceDep,
    client_address: ClientAddress,
) -> None:
    await auth.change_password(
        uow,
        user=user,
        current_password=body.current_password,
        new_password=body.new_password,
        client_address=client_address,
    )


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete the caller's account",
    description=(
        "Requires the password (checked, counted and locked out like a login; a wrong one is "
        "a 401 and the account stays). Removes the user with their sessions, tokens and "
        "mails, and anonymises their login attempts and audit events (docs/security.md, "
        "data retention). The email can register again, as a new user."
    ),
    responses=error_responses(401, 403, 429, 503),
)
async def delete_me(
    body: AccountDeletion,
    user: CurrentUser,
    uow: Uow,
    deletions: AccountDeletionServiceDep,
    client_address: ClientAddress,
) -> None:
    await deletions.delete_own(
        uow, user=user, password=body.password, client_address=client_address
    )
