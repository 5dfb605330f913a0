"""Capturing what the app's log handler really writes (after formatting and redaction)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from app.core.logging import app_handler


class Captured:
    def __init__(self) -> None:
        self.buffer = io.StringIO()

    @property
    def text(self) -> str:
        return self.buffer.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        """Every line as JSON (the capture must be of LOG_FORMAT=json)."""
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def events(self, event: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("event") == event]


@contextmanager
def captured_logs() -> Iterator[Captured]:
    """Point the handler configure_logging installed at a buffer for the block."""
    handler = app_handler()
    assert handler is not None, "configure_logging() has not run"
    captured = Captured()
    previous = handler.setStream(captured.buffer)
    try:
        yield captured
    finally:
        handler.setStream(previous)
