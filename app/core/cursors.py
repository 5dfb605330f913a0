"""Opaque keyset cursors: a position in a list ordered by (created_at, id), as a short
URL-safe string. Opaque so clients cannot build one by hand and come to rely on its shape;
decoding checks everything, so a malformed or tampered cursor is a 422, never a 500."""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from app.core.errors import ValidationError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAYOUT = struct.Struct(">q16s")  # microseconds since the epoch, then the id's 16 bytes
CURSOR_CHARS = 32  # base64 of 24 bytes, no padding needed


@dataclass(frozen=True, slots=True)
class Cursor:
    """The last row a page returned; the next page starts strictly after it."""

    created_at: datetime
    id: UUID

    def encode(self) -> str:
        micros = (self.created_at - _EPOCH) // timedelta(microseconds=1)
        return base64.urlsafe_b64encode(_LAYOUT.pack(micros, self.id.bytes)).decode()

    @classmethod
    def decode(cls, text: str, *, field: str = "cursor") -> Cursor:
        """The cursor `text` encodes, or ValidationError naming `field` (value not echoed)."""
        if len(text) != CURSOR_CHARS:
            raise _invalid(field)
        try:
            micros, raw_id = _LAYOUT.unpack(base64.urlsafe_b64decode(text.encode("ascii")))
            created_at = _EPOCH + timedelta(microseconds=micros)
        except (UnicodeEncodeError, binascii.Error, struct.error, OverflowError):
            raise _invalid(field) from None
        if cls(created_at, UUID(bytes=raw_id)).encode() != text:  # one spelling per position
            raise _invalid(field)
        return cls(created_at, UUID(bytes=raw_id))


def _invalid(field: str) -> ValidationError:
    return ValidationError(details=[{"field": field, "message": "Not a valid cursor"}])
