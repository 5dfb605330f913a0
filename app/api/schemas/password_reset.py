"""Resetting a forgotten password with a mailed one-time link
(app/api/routes/password_reset.py); it answers with `fields.AcceptedOut`."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from app.api.schemas.fields import Input, LoginEmail, NewPassword, OneTimeToken


class PasswordResetRequest(Input):
    email: LoginEmail  # any string: a malformed address gets the same 202 as an unknown one

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"email": "ada@example.com"}]}
    )


class PasswordResetConfirm(Input):
    token: OneTimeToken = Field(description="The `token` query parameter of the mailed link")
    new_password: NewPassword
