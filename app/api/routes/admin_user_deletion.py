"""An admin deletes an account (its own module for now: it joins the other admin user
routes when both halves of issue 17 meet)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response, status

from app.api.deps import AccountDeletionServiceDep, ClientAddress, CurrentAdmin, Uow
from app.api.json_limits import LimitedJsonRoute
from app.api.routes.responses import error_responses

router = APIRouter(route_class=LimitedJsonRoute)  # attached in app.api.routes


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a user",
    description=(
        "Removes the user as self-deletion does (sessions end at once; login attempts and "
        "audit events anonymised) and writes `user_deleted` with the admin as actor. Your "
        "own account is a 409: delete it with DELETE /api/v1/users/me and your password."
    ),
    responses=error_responses(401, 403, 404, 409, 503),
)
async def delete_user(
    user_id: UUID,
    admin: CurrentAdmin,
    uow: Uow,
    deletions: AccountDeletionServiceDep,
    client_address: ClientAddress,
) -> None:
    await deletions.delete_by_admin(
        uow, admin=admin, user_id=user_id, client_address=client_address
    )
