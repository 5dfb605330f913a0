"""Every error the API returns goes through `envelope()`: one shape, one place."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from app.api.request_id import HEADER as REQUEST_ID_HEADER
from app.api.request_id import request_id_of
from app.core.errors import (
    AppError,
    AuthenticationError,
    InternalServerError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    ValidationError,
)

logger = logging.getLogger("app.errors")

_BY_STATUS: Mapping[int, type[AppError]] = {
    cls.status_code: cls
    for cls in (NotFoundError, MethodNotAllowedError, PayloadTooLargeError, AuthenticationError)
}


def envelope(
    error: AppError, request_id: str, *, extra_headers: Mapping[str, str] | None = None
) -> Response:
    body: dict[str, Any] = {
        "message": error.message,
        "type": error.type,
        "statusCode": error.status_code,
        "requestId": request_id,
    }
    if isinstance(error, ValidationError):
        body["details"] = error.details
    headers = {**error.headers, **(extra_headers or {}), REQUEST_ID_HEADER: request_id}
    return JSONResponse({"error": body}, status_code=error.status_code, headers=headers)


MAX_FIELD_CHARS = 64


def _validation_details(errors: Sequence[Any]) -> list[dict[str, str]]:
    """Field and message only: pydantic's `input` would echo passwords back."""
    details = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        if error.get("type") == "json_invalid":
            details.append({"field": "body", "message": "Malformed JSON"})
            continue
        # An unknown key is the client's text: bounded, so a 1 MiB key is not sent back.
        field = ".".join(location)[:MAX_FIELD_CHARS] or "body"
        details.append({"field": field, "message": str(error.get("msg"))})
    return details


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    if exc.status_code >= 500:
        logger.warning("request failed: %s (%s)", exc.type, exc.message, exc_info=exc.__cause__)
    return envelope(exc, request_id_of(request.scope))


async def _request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    error = ValidationError(details=_validation_details(exc.errors()))
    return envelope(error, request_id_of(request.scope))


async def _http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405/etc. (unknown routes, wrong methods) in our envelope."""
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, AppError):
        # FastAPI wraps errors raised while reading the body (our streamed 413) in a 400.
        return envelope(exc.__cause__, request_id_of(request.scope))
    error_class = _BY_STATUS.get(exc.status_code)
    error: AppError
    if error_class is not None:
        error = error_class()
    elif exc.status_code < 500:  # e.g. 400 for an unparsable form: a request problem
        error = ValidationError(
            "Malformed request", details=[{"field": "body", "message": str(exc.detail)}]
        )
    else:
        error = InternalServerError()
    # Keep protocol headers Starlette attached, such as Allow on a 405.
    return envelope(error, request_id_of(request.scope), extra_headers=exc.headers)


async def _unhandled(request: Request, exc: Exception) -> Response:
    request_id = request_id_of(request.scope)
    logger.error("unhandled exception (request_id=%s)", request_id, exc_info=exc)
    return envelope(InternalServerError(), request_id)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(Exception, _unhandled)
