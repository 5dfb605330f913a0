"""Confirming an email address with its mailed one-time link, and asking for another."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.api.deps import ClientAddress, CurrentUser, Uow, provide
from app.api.json_limits import LimitedJsonRoute
from app.api.routes.responses import error_responses
from app.api.schemas.email_verification import EmailVerification
from app.api.schemas.fields import AcceptedOut
from app.services.email_verification import EmailVerificationService

EmailVerificationServiceDep = Annotated[
    EmailVerificationService, Depends(provide(lambda s: s.email_verification))
]

router = APIRouter(route_class=LimitedJsonRoute)  # attached in app.api.routes


@router.post(
    "/verify-email",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Confirm an email address",
    description=(
        "Spends the token of a verification link (mailed at registration and on request; it "
        "expires after EMAIL_VERIFY_TOKEN_HOURS); the user's `email_verified` becomes true. "
        "A token that is not live is a 400 InvalidTokenError."
    ),
    responses=error_responses(400, 503),
)
async def verify_email(
    body: EmailVerification,
    uow: Uow,
    verification: EmailVerificationServiceDep,
    client_address: ClientAddress,
) -> None:
    await verification.confirm(uow, token=body.token, client_address=client_address)


@router.post(
    "/me/verify-email",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send the verification mail again",
    description=(
        "Queues a new verification mail for the authenticated user. Nothing is sent when "
        "the address is already verified or after PASSWORD_RESET_MAX_PER_HOUR mails this "
        "hour; the answer is 202 either way."
    ),
    responses=error_responses(401, 403, 503),
)
async def resend_verification(
    user: CurrentUser, uow: Uow, verification: EmailVerificationServiceDep
) -> AcceptedOut:
    await verification.resend(uow, user=user)
    return AcceptedOut()
