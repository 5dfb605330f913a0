"""Changing an account the way an operator would, through the real repositories."""

from __future__ import annotations

from app.db.database import Database


async def deactivate(database: Database, email: str) -> None:
    uow = database.unit_of_work()
    try:
        async with uow.transaction():
            user = await uow.users.find_by_email(email)
            assert user is not None
            await uow.users.set_active(user.id, False)
    finally:
        await uow.close()
