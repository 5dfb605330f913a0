"""Registration and the caller's own account (app/api/routes/users.py); `UserOut` is also
the user of a login and of the admin routes."""

from __future__ import annotations

from datetime import datetime
from typing import Final
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from app.api.schemas.fields import AnyPassword, Email, FullName, Input, NewPassword
from app.core.models import User


class UserCreate(Input):
    email: Email
    password: NewPassword
    full_name: FullName | None = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "ada@example.com",
                    "password": "correct horse battery",
                    "full_name": "Ada Lovelace",
                }
            ]
        },
    )


class PasswordChange(Input):
    current_password: AnyPassword
    new_password: NewPassword


class AccountDeletion(Input):
    password: AnyPassword = Field(description="The caller's current password")


USER_EXAMPLE: Final[dict[str, JsonValue]] = {
    "id": "6f1c2b9e-3d4a-4e8f-9b61-2f0c8a7d5e13",
    "email": "ada@example.com",
    "full_name": "Ada Lovelace",
    "is_active": True,
    "email_verified": True,
    "is_admin": False,
    "created_at": "2026-11-27T09:30:00Z",
    "last_login": "2026-11-27T09:31:12Z",
}


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [USER_EXAMPLE]})

    id: UUID
    email: str
    full_name: str | None
    is_active: bool
    email_verified: bool
    is_admin: bool
    created_at: datetime
    last_login: datetime | None

    @classmethod
    def of(cls, user: User) -> UserOut:
        # from_attributes: the fields are read off the User by name, so a column added to
        # both comes along; password_hash has no field here and never leaves.
        return cls.model_validate(user)
