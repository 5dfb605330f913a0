"""The error envelope every error answers with (rendered by app/api/errors.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


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
