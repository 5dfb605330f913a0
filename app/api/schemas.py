"""Request and response bodies. No model here has a field for a password hash."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from app.core.models import User
from app.core.passwords import MIN_PASSWORD_CHARS

# Bounds on input sizes; the byte limit of passwords is checked after normalising.
MAX_PASSWORD_CHARS = 256
MAX_LOGIN_PASSWORD_CHARS = 1024


class _Input(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


class UserCreate(_Input):
    email: EmailStr = Field(max_length=320)
    password: str = Field(min_length=MIN_PASSWORD_CHARS, max_length=MAX_PASSWORD_CHARS)
    full_name: str | None = Field(default=None, max_length=200)

    model_config = ConfigDict(
        str_strip_whitespace=True,
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


class LoginRequest(_Input):
    email: str = Field(min_length=1, max_length=320)
    # Any string up to a sanity bound: a password outside the registration rules is a
    # failed login (401), never a 422 that hints at what the rules are.
    password: str = Field(max_length=MAX_LOGIN_PASSWORD_CHARS)

    model_config = ConfigDict(
        str_strip_whitespace=True,
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "ada@example.com", "password": "correct horse battery"}]
        },
    )


class UserOut(BaseModel):
    id: UUID
    email: str
    full_name: str | None
    is_active: bool
    created_at: datetime
    last_login: datetime | None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            full_name=user.full_name,
            is_active=user.is_active,
            created_at=user.created_at,
            last_login=user.last_login,
        )


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme name, not a secret)
    expires_in: int = Field(description="Seconds until the access token expires")


class LoginOut(TokenOut):
    user: UserOut


class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    message: str
    type: str
    statusCode: int
    requestId: str
    details: list[ErrorDetail] | None = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody
