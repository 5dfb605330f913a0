"""Account administration for admins: list and read users, deactivate, activate and delete
them. No route here grants admin: that is the command line's (`auth-service users set-admin`)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from app.api.deps import AccountDeletionServiceDep, ClientAddress, CurrentAdmin, Uow, provide
from app.api.json_limits import LimitedJsonRoute
from app.api.routes.responses import error_responses
from app.api.schemas.admin_users import EmailPrefix, PageCursor, UserPageOut
from app.api.schemas.users import UserOut
from app.core.cursors import Cursor
from app.core.models import Actor
from app.services.admin import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, AdminService

AdminServiceDep = Annotated[AdminService, Depends(provide(lambda s: s.admin))]

router = APIRouter(route_class=LimitedJsonRoute)  # attached in app.api.routes


@router.get(
    "",
    summary="List users",
    description=(
        "Users oldest first, in pages: pass a page's `next_cursor` as `cursor` for the next "
        "one. Keyset paging, so users created meanwhile neither shift nor repeat a row. "
        "`email` is a case-insensitive prefix of the normalised email (`%` and `_` match "
        "themselves). A malformed cursor is a 422."
    ),
    responses=error_responses(401, 403, 503),
)
async def list_users(
    _: CurrentAdmin,
    uow: Uow,
    admin: AdminServiceDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[PageCursor | None, Query()] = None,
    email: Annotated[EmailPrefix | None, Query(description="Email prefix")] = None,
) -> UserPageOut:
    after = None if cursor is None else Cursor.decode(cursor, field="query.cursor")
    page = await admin.list_users(uow, limit=limit, after=after, email_prefix=email)
    return UserPageOut(
        items=[UserOut.of(user) for user in page.users],
        next_cursor=None if page.next is None else page.next.encode(),
    )


@router.get(
    "/{user_id}",
    summary="One user",
    description="The user with this id: 404 for an unknown id, 422 for one that is no UUID.",
    responses=error_responses(401, 403, 404, 503),
)
async def get_user(user_id: UUID, _: CurrentAdmin, uow: Uow, admin: AdminServiceDep) -> UserOut:
    return UserOut.of(await admin.get_user(uow, user_id=user_id))


@router.post(
    "/{user_id}/deactivate",
    summary="Deactivate a user",
    description=(
        "Ends every session of the user in the same transaction: their access and refresh "
        "tokens stop working on the next request, and their login gets 403. An admin "
        "cannot deactivate their own account (409). Deactivating an inactive user changes "
        "nothing."
    ),
    responses=error_responses(401, 403, 404, 409, 503),
)
async def deactivate_user(
    user_id: UUID, caller: CurrentAdmin, uow: Uow, admin: AdminServiceDep, address: ClientAddress
) -> UserOut:
    actor = Actor.admin(caller, address=address)
    return UserOut.of(await admin.deactivate(uow, user_id=user_id, actor=actor))


@router.post(
    "/{user_id}/activate",
    summary="Activate a user",
    description="The user may log in again; no session ended by the deactivation comes back.",
    responses=error_responses(401, 403, 404, 503),
)
async def activate_user(
    user_id: UUID, caller: CurrentAdmin, uow: Uow, admin: AdminServiceDep, address: ClientAddress
) -> UserOut:
    actor = Actor.admin(caller, address=address)
    return UserOut.of(await admin.activate(uow, user_id=user_id, actor=actor))


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
