"""Forgotten passwords: ask for a mailed one-time link, then set a new password with it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.api.deps import ClientAddress, Uow, provide
from app.api.json_limits import LimitedJsonRoute
from app.api.routes.responses import error_responses
from app.api.schemas.fields import AcceptedOut
from app.api.schemas.password_reset import PasswordResetConfirm, PasswordResetRequest
from app.services.password_reset import PasswordResetService

PasswordResetServiceDep = Annotated[
    PasswordResetService, Depends(provide(lambda s: s.password_reset))
]

router = APIRouter(route_class=LimitedJsonRoute)  # attached in app.api.routes


@router.post(
    "/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Ask for a password-reset mail",
    description=(
        "Always 202 with the same body, in the same time, whether or not the email belongs "
        "to an account. For an active account a mail with a one-time link "
        "(PASSWORD_RESET_URL?token=...) is queued, at most PASSWORD_RESET_MAX_PER_HOUR per "
        "account and PASSWORD_RESET_MAX_PER_ADDRESS per client address each hour; past "
        "those limits the answer is still 202 and no mail is queued."
    ),
    responses=error_responses(503),
)
async def request_password_reset(
    body: PasswordResetRequest,
    uow: Uow,
    resets: PasswordResetServiceDep,
    client_address: ClientAddress,
) -> AcceptedOut:
    await resets.request(uow, email=body.email, client_address=client_address)
    return AcceptedOut()


@router.post(
    "/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Set a new password with a reset token",
    description=(
        "Spends the link's token (once; it expires after PASSWORD_RESET_TOKEN_MINUTES), "
        "applies the registration rules to the new password, marks the email verified and "
        "ends every session of the user. A token that is not live is a 400 InvalidTokenError."
    ),
    responses=error_responses(400, 503),
)
async def confirm_password_reset(
    body: PasswordResetConfirm,
    uow: Uow,
    resets: PasswordResetServiceDep,
    client_address: ClientAddress,
) -> None:
    await resets.confirm(
        uow, token=body.token, new_password=body.new_password, client_address=client_address
    )
