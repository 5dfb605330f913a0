"""The one error hierarchy: each class knows its HTTP status and its envelope `type`.

Errors are data until the API edge, where a single handler renders the envelope.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar


class AppError(Exception):
    status_code: ClassVar[int] = 500
    type: ClassVar[str] = "InternalServerError"
    default_message: ClassVar[str] = "Internal server error"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    @property
    def headers(self) -> Mapping[str, str]:
        return {}


class InvalidTokenError(AppError):
    """A one-time token (password reset, email verification) that is not live: unknown,
    spent, expired or malformed. One answer for all, so none can be told apart."""

    status_code = 400
    type = "InvalidTokenError"
    default_message = "The link is invalid or has expired"


class ValidationError(AppError):
    status_code = 422
    type = "ValidationError"
    default_message = "Request validation failed"

    def __init__(self, message: str | None = None, details: Sequence[Mapping[str, str]] = ()):
        super().__init__(message)
        self.details = list(details)


class AuthenticationError(AppError):
    status_code = 401
    type = "AuthenticationError"
    default_message = "Not authenticated"

    @property
    def headers(self) -> Mapping[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class AuthorizationError(AppError):
    status_code = 403
    type = "AuthorizationError"
    default_message = "Not allowed"


class NotFoundError(AppError):
    status_code = 404
    type = "NotFoundError"
    default_message = "Not found"


class MethodNotAllowedError(AppError):
    status_code = 405
    type = "MethodNotAllowedError"
    default_message = "Method not allowed"


class ConflictError(AppError):
    status_code = 409
    type = "ConflictError"
    default_message = "Conflict"


class PayloadTooLargeError(AppError):
    status_code = 413
    type = "PayloadTooLargeError"
    default_message = "Request body too large"


class _RetryAfter(AppError):
    def __init__(self, message: str | None = None, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)

    @property
    def headers(self) -> Mapping[str, str]:
        return {"Retry-After": str(self.retry_after)}


class RateLimitError(_RetryAfter):
    status_code = 429
    type = "RateLimitError"
    default_message = "Too many attempts, try again later"


class InternalServerError(AppError):
    """Anything unexpected; the message never says more than this."""


class ServiceUnavailableError(_RetryAfter):
    status_code = 503
    type = "ServiceUnavailableError"
    default_message = "Service temporarily unavailable"


class DatabaseError(InternalServerError):
    """A driver error that is not the caller's fault; the cause is chained, never shown."""


class DatabaseUnavailableError(DatabaseError, ServiceUnavailableError):
    """The database cannot be reached, the pool is exhausted, or a statement timed out."""

    status_code = 503
    type = "ServiceUnavailableError"
    default_message = "Database temporarily unavailable"
