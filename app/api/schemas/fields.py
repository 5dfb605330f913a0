"""The field types request bodies are made of, and the bases the bodies share."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, EmailStr, Field

from app.core.emails import MAX_EMAIL_CHARS
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


# Docstrings on the models below would become their descriptions in the OpenAPI document.


class Input(BaseModel):
    # A request body: an unknown field is a 422, not silently dropped.
    model_config = ConfigDict(extra="forbid")


class AcceptedOut(BaseModel):
    # The 202 of a request that mails a link, or would have: it does not say which.
    status: Literal["accepted"] = "accepted"
