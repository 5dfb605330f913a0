"""Opaque keyset cursors: a position in a list, as a short URL-safe string. Opaque so
clients cannot build one by hand and come to rely on its shape; decoding checks everything,
so a malformed or tampered cursor is a 422, never a 500."""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from app.core.errors import ValidationError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_USER_LAYOUT = struct.Struct(">q16s")  # microseconds since the epoch, then the id's 16 bytes
_EVENT_LAYOUT = struct.Struct(">q")  # the event id
CURSOR_CHARS = 32  # base64 of 24 bytes, no padding needed
EVENT_CURSOR_CHARS = 12  # base64 of 8 bytes, with its padding


@dataclass(frozen=True, slots=True)
class Cursor:
    """The last user a page returned, in (created_at, id) order; the next page starts
    strictly after it."""

    created_at: datetime
    id: UUID

    def encode(self) -> str:
        micros = (self.created_at - _EPOCH) // timedelta(microseconds=1)
        return _pack(_USER_LAYOUT, micros, self.id.bytes)

    @classmethod
    def decode(cls, text: str, *, field: str = "cursor") -> Cursor:
        """The cursor `text` encodes, or ValidationError naming `field` (value not echoed)."""
        micros, raw_id = _unpack(_USER_LAYOUT, CURSOR_CHARS, text, field)
        try:
            created_at = _EPOCH + timedelta(microseconds=micros)
        except OverflowError:
            raise _invalid(field) from None
        return cls(created_at, UUID(bytes=raw_id))


@dataclass(frozen=True, slots=True)
class EventCursor:
    """The last audit event a page returned, newest first: the next page is older."""

    id: int

    def encode(self) -> str:
        return _pack(_EVENT_LAYOUT, self.id)

    @classmethod
    def decode(cls, text: str, *, field: str = "cursor") -> EventCursor:
        (event_id,) = _unpack(_EVENT_LAYOUT, EVENT_CURSOR_CHARS, text, field)
        return cls(event_id)


def _pack(layout: struct.Struct, *values: Any) -> str:
    return base64.urlsafe_b64encode(layout.pack(*values)).decode()


def _unpack(layout: struct.Struct, chars: int, text: str, field: str) -> tuple[Any, ...]:
    """The values `text` packs, or ValidationError. Re-encoding must give `text` back: one
    spelling per position, so a cursor cannot be varied to probe the decoder."""
    if len(text) != chars:
        raise _invalid(field)
    try:
        values = layout.unpack(base64.urlsafe_b64decode(text.encode("ascii")))
    except (UnicodeEncodeError, binascii.Error, struct.error):
        raise _invalid(field) from None
    if _pack(layout, *values) != text:
        raise _invalid(field)
    return tuple(values)


def _invalid(field: str) -> ValidationError:
    return ValidationError(details=[{"field": field, "message": "Not a valid cursor"}])
