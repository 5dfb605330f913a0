"""Error tracking with sentry-sdk, on only when SENTRY_DSN is set.

Unhandled exceptions and 5xx responses are reported by the SDK's Starlette/FastAPI
integrations (a 5xx domain error carries `status_code`, which is what they look for).
Each report gets the request id, the route, the release and the user id when known; the
request body, cookies, query string, every header outside a short allowlist, local
variables, and anything that looks like a password or a token are removed before sending.
"""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version
from typing import Any, cast

import sentry_sdk
from sentry_sdk.integrations.fastapi import FastApiIntegration
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.integrations.starlette import StarletteIntegration
from sentry_sdk.types import Event, Hint

from app.core.logging import log_context, scrub
from app.core.settings import Settings

# Headers that help triage and never carry credentials; every other one is dropped.
_KEPT_HEADERS = frozenset(
    {"accept", "content-length", "content-type", "host", "user-agent", "x-request-id"}
)


def default_release() -> str:
    try:
        return f"auth-service@{version('auth-service')}"
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "auth-service@unknown"


def init_error_tracking(settings: Settings) -> bool:
    """Start the SDK when SENTRY_DSN is set; True when it did."""
    if settings.sentry_dsn is None or not settings.sentry_dsn.get_secret_value():
        return False
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        release=settings.sentry_release or default_release(),
        environment=settings.app_env,
        send_default_pii=False,
        include_local_variables=False,  # a frame's locals can hold the plain password
        max_request_body_size="never",
        integrations=[
            StarletteIntegration(transaction_style="url"),
            FastApiIntegration(transaction_style="url"),
            # Log lines become breadcrumbs, not events: the exception itself is reported
            # once by the integrations above.
            LoggingIntegration(level=logging.INFO, event_level=None),
        ],
        before_send=before_send,
    )
    return True


def before_send(event: Event, hint: Hint) -> Event:
    """Add who and where from the request's log context; strip what must never leave.

    Runs synchronously where the error is captured, inside the request's context, so the
    values bound for log lines (request id, user id) are the ones of the failing request.
    """
    report = cast("dict[str, Any]", event)  # a TypedDict; edited as the plain dict it is
    context = log_context()
    tags = report.setdefault("tags", {})
    if "request_id" in context:
        tags["request_id"] = context["request_id"]
    if "user_id" in context:
        report["user"] = {"id": context["user_id"]}
    else:
        report.pop("user", None)
    route = report.get("transaction") or context.get("route")
    if route:
        tags["route"] = route
    request = report.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "query_string", "env"):
            request.pop(key, None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {k: v for k, v in headers.items() if k.lower() in _KEPT_HEADERS}
    scrub(report)
    return event
