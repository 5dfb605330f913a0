"""Confirming an email address with its mailed one-time link
(app/api/routes/email_verification.py); asking for another answers `fields.AcceptedOut`."""

from __future__ import annotations

from pydantic import Field

from app.api.schemas.fields import Input, OneTimeToken


class EmailVerification(Input):
    token: OneTimeToken = Field(description="The `token` query parameter of the mailed link")
