"""Structured logs: one pipeline (structlog over the standard library) for our lines and
for every library's (uvicorn, asyncpg, alembic).

Each line carries the request id and, once known, the user id (bound per request in
structlog's context variables). JSON in production, readable text in development.
Secrets are removed twice: values under sensitive keys are replaced, and anything shaped
like a bearer token or a JWT is masked wherever it appears in a line. Tracebacks never show
local variables (structlog's and rich's defaults would print them, passwords included).
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import orjson
import structlog
from structlog.typing import EventDict, FilteringBoundLogger, Processor, WrappedLogger

from app.core.settings import Settings

REDACTED = "[redacted]"
_SENSITIVE_KEY = re.compile(r"pass(word)?|token|secret|authori[sz]ation|cookie|api[_-]?key", re.I)
_SECRET_TEXT = re.compile(
    r"(?i:bearer)\s+[\w\-.~+/]+=*"  # an Authorization header value
    r"|eyJ[\w-]*\.[\w-]+\.[\w-]*"  # a JWT (its header always starts with eyJ, '{"')
    # a bcrypt hash, e.g. inside PostgreSQL's "Failing row contains (...)" error detail
    r"|\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}"
)


_PLAIN_TYPES = frozenset({int, float, bool, type(None)})


@functools.lru_cache(maxsize=1024)  # keys repeat line after line; the regex is the cost
def _is_sensitive_key(key: str) -> bool:
    return _SENSITIVE_KEY.search(key) is not None


def _is_sensitive(key: object) -> bool:
    return isinstance(key, str) and _is_sensitive_key(key)


def redact(value: Any) -> Any:
    """`value` with sensitive keys' values replaced and token-shaped text masked."""
    kind = type(value)
    if kind is str:
        return _SECRET_TEXT.sub(REDACTED, value)
    if kind in _PLAIN_TYPES:
        return value
    if isinstance(value, str):  # a str subclass
        return _SECRET_TEXT.sub(REDACTED, value)
    if isinstance(value, Mapping):
        return {k: REDACTED if _is_sensitive(k) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def scrub(event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """`event` redacted in place (log lines here, error reports in app.core.errortracking)."""
    for key, value in event.items():
        event[key] = REDACTED if _is_sensitive(key) else redact(value)
    return event


def _scrub_line(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    scrub(event)
    return event


def bind_request(request_id: str) -> None:
    """Start a request's log context: earlier requests' values never leak into it."""
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)


def bind(**values: Any) -> None:
    """Add values (user_id, route) to every later line of this request."""
    structlog.contextvars.bind_contextvars(**values)


def log_context() -> Mapping[str, Any]:
    return structlog.contextvars.get_contextvars()


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger


class _AppHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Our root handler, told apart from others (pytest's) when reconfiguring."""


ACCESS_LOGGER = "app.access"


class _HandlerStream:
    """A structlog logger that writes finished lines to our handler's stream, under the
    handler's lock: the same destination and order as every other line, without a
    LogRecord, the handler chain and the formatter for each of them."""

    name = ACCESS_LOGGER  # for add_logger_name

    def __init__(self, handler: logging.StreamHandler) -> None:  # type: ignore[type-arg]
        self._handler = handler

    def msg(self, line: bytes) -> None:
        handler = self._handler
        with handler.lock:  # type: ignore[union-attr]  # StreamHandler always has one
            stream = handler.stream
            raw = getattr(stream, "buffer", None)
            if raw is not None:  # a text stream over bytes (stderr): no decode, no re-encode
                raw.write(line + b"\n")
                raw.flush()
            else:
                stream.write(line.decode() + "\n")
                stream.flush()

    info = debug = warning = error = critical = exception = msg


_access_logger: Any = None


def access_logger() -> Any:
    """The logger for the one access line per request (app.api.middleware).

    With JSON lines (production) structlog renders the event straight to bytes with orjson
    and writes them to the stream: the standard-library chain cost 15-23 % of a cheap
    request's throughput (docs/performance.md). Same processors, so the same fields.
    """
    return _access_logger


def _configure_access_logger(
    shared: list[Processor],
    handler: logging.StreamHandler,  # type: ignore[type-arg]
    settings: Settings,
) -> None:
    global _access_logger
    if settings.effective_log_format != "json":  # development: the readable line as before
        _access_logger = get_logger(ACCESS_LOGGER)
        return
    level = logging.getLevelName(settings.log_level.upper())
    wrapper: type[FilteringBoundLogger] = structlog.make_filtering_bound_logger(level)
    _access_logger = structlog.wrap_logger(
        _HandlerStream(handler),
        processors=[*shared, structlog.processors.JSONRenderer(serializer=orjson.dumps)],
        wrapper_class=wrapper,
        cache_logger_on_first_use=True,
    ).bind()


def configure_logging(settings: Settings) -> None:
    """Install the pipeline on the root logger; safe to call again (tests build many apps)."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,  # plain text, no locals
        _scrub_line,
    ]
    renderer: Processor
    if settings.effective_log_format == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared, _wrap],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _AppHandler)]:
        root.removeHandler(old)
    handler = _AppHandler(sys.stderr)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    _configure_access_logger(shared, handler, settings)
    # uvicorn's own access line would duplicate ours (and print raw query strings).
    logging.getLogger("uvicorn.access").disabled = True
    # Reading the migration head at start-up logs alembic's plugin set-up at INFO.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def _wrap(logger: WrappedLogger, method: str, event: EventDict) -> Any:
    return structlog.stdlib.ProcessorFormatter.wrap_for_formatter(logger, method, event)


def app_handler() -> logging.StreamHandler | None:  # type: ignore[type-arg]
    """The handler configure_logging installed (tests point its stream at a buffer)."""
    return next((h for h in logging.getLogger().handlers if isinstance(h, _AppHandler)), None)
