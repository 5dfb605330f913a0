"""Logging in, refreshing and logging out (app/api/routes/auth.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasPath, BaseModel, ConfigDict, Field

from app.api.schemas.fields import AnyPassword, Input, LoginEmail, RefreshToken
from app.api.schemas.users import USER_EXAMPLE, UserOut

_ACCESS_EXAMPLE = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI2ZjFjMmI5ZSJ9.c2lnbmF0dXJl"


class LoginRequest(Input):
    email: LoginEmail
    password: AnyPassword

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "ada@example.com", "password": "correct horse battery"}]
        },
    )


class RefreshRequest(Input):
    refresh_token: RefreshToken


class LogoutRequest(Input):
    refresh_token: RefreshToken


# The token bodies are read off the service's results (from_attributes): TokenResult,
# TokenPair, LoginResult. The access token's fields come from their IssuedToken (`access`),
# the refresh token and the user from the fields of those names.
class TokenOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {"access_token": _ACCESS_EXAMPLE, "token_type": "bearer", "expires_in": 900}
            ]
        },
    )

    # validation_alias is how the field is read, not how it is written: the OpenAPI
    # document and the JSON keep the names on the left.
    access_token: str = Field(validation_alias=AliasPath("access", "token"))
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme name, not a secret)
    expires_in: int = Field(
        validation_alias=AliasPath("access", "expires_in"),
        description="Seconds until the access token expires",
    )


class TokenPairOut(TokenOut):
    refresh_token: str = Field(description="Opaque; spend it once at /api/v1/auth/refresh")


class LoginOut(TokenPairOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": _ACCESS_EXAMPLE,
                    "token_type": "bearer",
                    "expires_in": 900,
                    "refresh_token": "k3Jx0n2V9m5wQy8Rt7Lp1Zs4Hb6Fd0Ce",
                    "user": USER_EXAMPLE,
                }
            ]
        }
    )

    user: UserOut
