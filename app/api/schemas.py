"""Request and response bodies. No model here has a field for a password hash."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    JsonValue,
)

from app.core.emails import MAX_EMAIL_CHARS
from app.core.models import AuditEvent, Session, User
from app.core.one_time_tokens import MAX_TOKEN_CHARS as MAX_ONE_TIME_TOKEN_CHARS
from app.core.passwords import MIN_PASSWORD_CHARS
from app.core.refresh_tokens import MAX_TOKEN_CHARS

# Bounds on input sizes; passwords' byte limit and emails' length (MAX_EMAIL_CHARS) are
# checked again after normalising, which can make them longer.
MAX_PASSWORD_CHARS = 256
MAX_LOGIN_PASSWORD_CHARS = 1024


# What plain_text enforces, stated in the OpenAPI document (ECMA regex) for clients and fuzzers.
PLAIN_TEXT = {"pattern": "^[^\\u0000]*$"}


def plain_text(value: str) -> str:
    """Refuse what PostgreSQL and bcrypt cannot take (NUL, lone surrogates) as a 422 here,
    rather than as a driver error deep inside."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _stripped(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


# Passwords are never stripped: every character counts, the same at registration and login.
# Emails are trimmed here for validation; the services normalise them again (CLI callers).
Email = Annotated[
    EmailStr,
    Field(max_length=MAX_EMAIL_CHARS, json_schema_extra=PLAIN_TEXT),
    BeforeValidator(_stripped),
]
LoginEmail = Annotated[
    str,
    Field(max_length=MAX_EMAIL_CHARS, json_schema_extra=PLAIN_TEXT),
    BeforeValidator(_stripped),
    AfterValidator(plain_text),
]
NewPassword = Annotated[
    str,
    Field(
        min_length=MIN_PASSWORD_CHARS,
        max_length=MAX_PASSWORD_CHARS,
        description="At least 8 characters and at most 72 UTF-8 bytes after NFKC normalisation",
        json_schema_extra=PLAIN_TEXT,
    ),
    AfterValidator(plain_text),
]
# Any string up to a sanity bound: a password outside the registration rules is a failed
# login (401), never a 422 that hints at what the rules are.
AnyPassword = Annotated[
    str,
    Field(max_length=MAX_LOGIN_PASSWORD_CHARS, json_schema_extra=PLAIN_TEXT),
    AfterValidator(plain_text),
]
FullName = Annotated[
    str,
    Field(max_length=200, json_schema_extra=PLAIN_TEXT),
    BeforeValidator(_stripped),
    AfterValidator(plain_text),
]
RefreshToken = Annotated[
    str,
    Field(min_length=1, max_length=MAX_TOKEN_CHARS, json_schema_extra=PLAIN_TEXT),
    AfterValidator(plain_text),
]


# Any string up to a bound, not even plain_text: every token that is not live (unknown,
# spent, expired, malformed, empty) gets the same 400, decided by the lookup.
OneTimeToken = Annotated[str, Field(max_length=MAX_ONE_TIME_TOKEN_CHARS)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserCreate(_Input):
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


class LoginRequest(_Input):
    email: LoginEmail
    password: AnyPassword

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "ada@example.com", "password": "correct horse battery"}]
        },
    )


class RefreshRequest(_Input):
    refresh_token: RefreshToken


class LogoutRequest(_Input):
    refresh_token: RefreshToken


class PasswordChange(_Input):
    current_password: AnyPassword
    new_password: NewPassword


class AccountDeletion(_Input):
    password: AnyPassword = Field(description="The caller's current password")


class PasswordResetRequest(_Input):
    email: LoginEmail  # any string: a malformed address gets the same 202 as an unknown one

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"email": "ada@example.com"}]}
    )


class PasswordResetConfirm(_Input):
    token: OneTimeToken = Field(description="The `token` query parameter of the mailed link")
    new_password: NewPassword


class EmailVerification(_Input):
    token: OneTimeToken = Field(description="The `token` query parameter of the mailed link")


class AcceptedOut(BaseModel):
    status: Literal["accepted"] = "accepted"


_USER_EXAMPLE: dict[str, JsonValue] = {
    "id": "6f1c2b9e-3d4a-4e8f-9b61-2f0c8a7d5e13",
    "email": "ada@example.com",
    "full_name": "Ada Lovelace",
    "is_active": True,
    "email_verified": True,
    "is_admin": False,
    "created_at": "2026-11-27T09:30:00Z",
    "last_login": "2026-11-27T09:31:12Z",
}
_ACCESS_EXAMPLE = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI2ZjFjMmI5ZSJ9.c2lnbmF0dXJl"


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_USER_EXAMPLE]})

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


class TokenOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"access_token": _ACCESS_EXAMPLE, "token_type": "bearer", "expires_in": 900}
            ]
        }
    )

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme name, not a secret)
    expires_in: int = Field(description="Seconds until the access token expires")


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
                    "user": _USER_EXAMPLE,
                }
            ]
        }
    )

    user: UserOut


class SessionOut(BaseModel):
    id: UUID = Field(description="The `sid` claim of this session's access tokens")
    created_at: datetime = Field(description="When its login happened")
    last_used_at: datetime = Field(description="Its login or latest refresh")
    user_agent: str | None
    address: str | None = Field(description="The client address at login")
    current: bool = Field(description="Whether the token of this request belongs to it")

    @classmethod
    def of(cls, session: Session, *, current_id: UUID) -> SessionOut:
        return cls(
            id=session.id,
            created_at=session.created_at,
            last_used_at=session.last_used_at,
            user_agent=session.user_agent,
            address=session.address,
            current=session.id == current_id,
        )


class SessionsOut(BaseModel):
    items: list[SessionOut]


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    type: str
    user_id: UUID | None = Field(description="Whom the event is about (kept after deletion)")
    actor_id: UUID | None = Field(description="Who did it: the user, an admin, or none (CLI)")
    address: str | None = Field(description="The client address of the request, if any")
    details: dict[str, JsonValue] = Field(
        description="Small flat facts (a session id, a reason, a channel); never a secret "
        "or an email"
    )

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventOut:
        return cls.model_validate(event)


class AuditEventsOut(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end"
    )


# Admin listing filters: the prefix is matched on the normalised email (no NUL: the
# database could not compare it), and the cursor is opaque: decoded by the service.
EmailPrefix = Annotated[
    str,
    Field(max_length=MAX_EMAIL_CHARS, json_schema_extra=PLAIN_TEXT),
    AfterValidator(plain_text),
]
PageCursor = Annotated[str, Field(max_length=64, json_schema_extra=PLAIN_TEXT)]


class UserPageOut(BaseModel):
    items: list[UserOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page"
    )


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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": {
                        "message": "Invalid credentials",
                        "type": "AuthenticationError",
                        "statusCode": 401,
                        "requestId": "9b2f6c1d8e4a4f0b",
                    }
                }
            ]
        }
    )

    error: ErrorBody


class JwkOut(BaseModel):
    """A public key (RFC 7517): EC keys carry `crv`, `x`, `y`; RSA keys `n`, `e`."""

    kty: Literal["EC", "RSA"]
    kid: str = Field(description="RFC 7638 thumbprint; the `kid` in the tokens it signed")
    alg: Literal["ES256", "RS256"]
    use: Literal["sig"]
    crv: str | None = None
    x: str | None = None
    y: str | None = None
    n: str | None = None
    e: str | None = None


class JwksOut(BaseModel):
    keys: list[JwkOut] = Field(description="Empty when tokens are signed with a shared secret")


class OpenIdConfigurationOut(BaseModel):
    issuer: str = Field(description="The `iss` of our access tokens")
    jwks_uri: str
    token_endpoint: str
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    subject_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str] = Field(
        description="The access tokens' algorithm (this service issues no ID tokens)"
    )
