"""Every response carries X-Request-ID: a sane incoming one is kept, else one is made."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from starlette.types import Scope

HEADER = "X-Request-ID"
HEADER_BYTES = HEADER.lower().encode("latin-1")
# fullmatch, not match with ^...$: "$" also matches before a trailing newline.
_SANE = re.compile(r"[A-Za-z0-9._:\-]{1,128}")

current_request_id: ContextVar[str] = ContextVar("request_id", default="-")


def choose_request_id(incoming: bytes | None) -> str:
    """The client's id when it is short and plain, else a fresh one."""
    if incoming is not None:
        text = incoming.decode("latin-1")
        if _SANE.fullmatch(text):
            return text
    return uuid.uuid4().hex


def request_id_of(scope: Scope) -> str:
    state = scope.get("state") or {}
    return str(state.get("request_id") or current_request_id.get())
